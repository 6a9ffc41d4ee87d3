// Metric cards (macro `metric_card`): a value, and a trend arrow against a reference value.
import { isNum } from "./format.js";

// A figure too wide for its card (a seven-digit amount on a phone) is set smaller, down to this
// share of the card's font size; past that it may wrap rather than spill out of the card.
const MIN_SCALE = 0.6;

/** Fit a card's value into its card: shrink the font only as much as it takes. */
function fit(value) {
  value.style.removeProperty("font-size");
  value.classList.remove("squeezed");
  const room = value.clientWidth;
  if (!room || value.scrollWidth <= room) return;
  const base = parseFloat(getComputedStyle(value).fontSize);
  const size = Math.max(base * MIN_SCALE, Math.floor((base * room * 10) / value.scrollWidth) / 10);
  value.style.fontSize = `${size}px`;
  if (value.scrollWidth > value.clientWidth) value.classList.add("squeezed");
}

let refitQueued = false;
window.addEventListener("resize", () => {
  if (refitQueued) return;
  refitQueued = true;
  requestAnimationFrame(() => {
    refitQueued = false;
    for (const value of document.querySelectorAll("[data-card] .metric-value")) fit(value);
  });
});

function cardParts(key) {
  const card = document.querySelector(`[data-card="${key}"]`);
  if (!card) return null;
  return {
    card,
    value: card.querySelector(".metric-value"),
    arrow: card.querySelector(".trend-arrow"),
    text: card.querySelector(".trend-text"),
  };
}

/**
 * Show `value` (a number, kept raw in data-value for anyone who checks) formatted by `format`.
 * null/undefined shows the empty state "no data yet" — never a made-up number.
 */
export function setCard(key, value, format, detail) {
  const parts = cardParts(key);
  if (!parts) return;
  if (!isNum(value)) {
    parts.card.dataset.state = "empty";
    parts.value.textContent = "no data yet";
    parts.value.classList.add("empty");
    fit(parts.value);
    delete parts.value.dataset.value;
    setTrend(key, null, null);
    return;
  }
  parts.card.dataset.state = "ready";
  parts.value.classList.remove("empty");
  parts.value.textContent = format(value);
  parts.value.dataset.value = String(value);
  fit(parts.value);
  if (detail !== undefined) parts.card.title = detail;
}

/**
 * Trend arrow from `reference` to `current`. `higherIsBetter` colours it (revenue up is good,
 * p95 up is bad); `label` says what the reference is ("vs yesterday").
 */
export function setTrend(key, current, reference, { higherIsBetter = true, label = "", format = null, missing = "" } = {}) {
  const parts = cardParts(key);
  if (!parts || !parts.arrow) return;
  parts.arrow.className = "trend-arrow";
  if (!isNum(current) || !isNum(reference)) {
    // No comparison: say so (`missing`, e.g. "—") or show nothing, never an earlier value.
    parts.arrow.textContent = "";
    parts.arrow.removeAttribute("aria-label");
    parts.text.textContent = missing ? `${missing} ${label}`.trim() : "";
    return;
  }
  const diff = current - reference;
  const flat = Math.abs(diff) < 1e-9 || (reference !== 0 && Math.abs(diff / reference) < 0.005);
  let text;
  if (format) text = `${diff >= 0 ? "+" : "−"}${format(Math.abs(diff))}`;
  else if (reference === 0) text = flat ? "±0" : "new";
  else text = `${diff >= 0 ? "+" : "−"}${Math.abs((diff / reference) * 100).toFixed(1)} %`;
  const direction = flat ? "flat" : diff > 0 ? "up" : "down";
  parts.arrow.textContent = { flat: "▶", up: "▲", down: "▼" }[direction];
  parts.arrow.setAttribute("aria-label", { flat: "unchanged", up: "up", down: "down" }[direction]);
  if (!flat) parts.arrow.classList.add((direction === "up") === higherIsBetter ? "good" : "bad");
  parts.text.textContent = `${text} ${label}`.trim();
}

/** What the card's figure covers ("last 30 min", "USD · Nov 1 – Nov 7"). */
export function setCaption(key, text) {
  const el = document.querySelector(`[data-card="${key}"] .metric-window`);
  if (el) el.textContent = text || "";
}

/** "last 30 min", "last 24 hours": a window selector's choice, in the selector's own words. */
export function windowCaption(select) {
  const option = select.selectedOptions[0];
  return `last ${option ? option.textContent.trim() : `${select.value} min`}`;
}

/** The card's second line under the figure (empty hides it). */
export function setExtra(key, text) {
  const el = document.querySelector(`[data-card="${key}"] .metric-extra`);
  if (el) el.textContent = text || "";
}

/** The figure could not be loaded: say so (the error toast has the details), show no number. */
export function setCardError(key, message = "") {
  const parts = cardParts(key);
  if (!parts) return;
  parts.card.dataset.state = "error";
  parts.value.textContent = "unavailable";
  parts.value.classList.add("empty");
  fit(parts.value);
  delete parts.value.dataset.value;
  parts.card.title = message;
  setTrend(key, null, null);
}

/** Put every card of the page back into its loading state. */
export function cardsLoading() {
  for (const card of document.querySelectorAll("[data-card]")) {
    if (card.dataset.state !== "ready") card.dataset.state = "loading";
  }
}
