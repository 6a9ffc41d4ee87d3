// The currency the money figures are shown in: one choice shared by every page that shows money
// (Overview, Revenue), kept across reloads in localStorage and in the page's URL (?currency=EUR).
// Until the admin picks one, the server's default applies: the currency with the most revenue.
// Amounts in different currencies are never added: the others are listed beside the chosen one.
import { money } from "./format.js";

const KEY = "admin-currency";
const CODE = /^[A-Z]{3}$/;

function valid(code) {
  return typeof code === "string" && CODE.test(code) ? code : null;
}

function stored() {
  try {
    return valid(localStorage.getItem(KEY));
  } catch (err) {
    return null; // storage disabled: the choice lasts as long as the page
  }
}

function remember(code) {
  try {
    localStorage.setItem(KEY, code);
  } catch (err) {
    // storage disabled: the URL still carries the choice
  }
  const url = new URL(window.location.href);
  url.searchParams.set("currency", code);
  window.history.replaceState(window.history.state, "", url);
}

/** The currency the admin picked (the URL wins over the stored choice), or null for the default. */
export function pickedCurrency() {
  const fromUrl = valid((new URL(window.location.href).searchParams.get("currency") || "").toUpperCase());
  if (fromUrl && fromUrl !== stored()) remember(fromUrl);
  return fromUrl || stored();
}

/**
 * Wire the page's picker (`<select data-currency-picker>`): picking a currency remembers it and
 * fires `currency:change` on `document` (detail: the code), which every money section listens to.
 * `.show(answer)` fills the picker from an API answer's `currency` and `currencies`.
 */
export function currencyPicker() {
  const select = document.querySelector("select[data-currency-picker]");
  if (select && !select.dataset.wired) {
    select.dataset.wired = "true";
    select.addEventListener("change", () => {
      const code = valid(select.value);
      if (!code) return;
      remember(code);
      document.dispatchEvent(new CustomEvent("currency:change", { detail: code }));
    });
  }
  return {
    /** Offer every currency of the answer, the one its figures are in selected. */
    show(answer) {
      if (!select) return;
      const shown = answer && answer.currency;
      const codes = ((answer && answer.currencies) || []).map((c) => c.currency);
      const picked = pickedCurrency();
      for (const code of [picked, shown]) if (code && !codes.includes(code)) codes.push(code);
      codes.sort();
      select.replaceChildren(...codes.map((code) => new Option(code, code, false, code === shown)));
      select.disabled = codes.length < 2;
      select.dataset.shown = shown || "";
    },
  };
}

/** "€1,234.00 EUR · £56.00 GBP": the totals of every currency but `shown`, never summed. */
export function otherTotals(currencies, shown) {
  return (currencies || []).filter((c) => c.currency !== shown)
    .map((c) => `${money(c.revenue_cents, c.currency)} ${c.currency}`).join(" · ");
}
