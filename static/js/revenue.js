// Revenue page: bar chart by hour/day/week over a date range in the browser's time zone,
// summary cards, orders per bucket (revenue-orders.js), and the status split of the same range, in
// the currency the admin picked.
import { api, withQuery } from "./api.js";
import { cardsLoading, setCaption, setCard, setCardError, setExtra, setTrend } from "./cards.js";
import { alpha, makeChart, setData, setPanelState, themeColors, wireTableToggles } from "./charts.js";
import { currencyPicker, otherTotals, pickedCurrency } from "./currency.js";
import { TZ, count, dateInputValue, isNum, localMidnight, money, ratio, zoneNote } from "./format.js";
import { LABEL, currentRange, rangeLabel, rangeProblem, rangeReachesNow } from "./insights-range.js";
import { exploreHref } from "./links.js";
import { drawOrders, ordersPending } from "./revenue-orders.js";
import { statusDoughnut } from "./status-chart.js";
import { onPopState, readState, writeState } from "./url-state.js";

const RELOAD_MIN_INTERVAL_MS = 10000;
const FIRST_RANGE_DAYS = 14;
const CARDS = ["total", "orders", "average", "success_rate", "peak"];

const state = { period: "daily", currency: "USD", loadedAt: 0, timer: null, request: 0, partial: -1 };
const compareSelect = document.getElementById("revenue-compare");
const COMPARE_LABEL = { previous: "Previous period", week: "Same period last week" };
const panel = document.querySelector('[data-chart="revenue"]');
const startInput = document.getElementById("range-start");
const endInput = document.getElementById("range-end");
const rangeError = document.getElementById("range-error");
const picker = currencyPicker();

const chart = makeChart("revenue", {
  type: "bar",
  data: { labels: [], datasets: [{ label: "Revenue", data: [], borderWidth: 0, borderRadius: 3 }] },
  options: {
    scales: {
      y: { beginAtZero: true, ticks: { callback: (v) => money(v * 100, state.currency).replace(/\.00$/, "") } },
      x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 } },
    },
    plugins: {
      legend: { display: false },
      tooltip: { callbacks: { label: (ctx) => money(Math.round(ctx.parsed.y * 100), state.currency) } },
    },
  },
}, (c, colors) => {
  // The bucket still running is drawn lighter: its figure is not final.
  c.data.datasets[0].backgroundColor = c.data.labels.map((_, i) => alpha(colors.palette[0], i === state.partial ? 0.35 : 0.8));
  if (c.data.datasets[1]) {
    c.data.datasets[1].borderColor = colors.palette[3];
    c.data.datasets[1].backgroundColor = alpha(colors.palette[3], 0.2);
  }
});
chart.$labelHeader = "Period";
chart.$formatValue = (v) => (isNum(v) ? money(Math.round(v * 100), state.currency) : "—");
const status = statusDoughnut("revenue-status");

/** Drill-down: a bar opens its completed transactions, a status slice the range's transactions of that status. */
function drill(extra) {
  if (!state.asked || !state.body) return;
  location.assign(exploreHref("transactions", { ...state.asked, currency: state.body.currency, ...extra }));
}
chart.options.onClick = (_event, elements) => {
  const bucket = elements.length && state.body ? state.body.buckets[elements[0].index] : null;
  if (bucket) drill({ bucket: bucket.start, status: "completed" });
};
status.chart.options.onClick = (_event, elements) => {
  if (elements.length && status.chart.$keys) drill({ status: status.chart.$keys[elements[0].index] });
};
chart.canvas.classList.add("drillable");
status.chart.canvas.classList.add("drillable");

/** Say inline why the dates cannot be used (and mark the field), or clear the message. */
function showRangeProblem(message) {
  rangeError.textContent = message;
  rangeError.hidden = !message;
  if (message) endInput.setAttribute("aria-invalid", "true");
  else endInput.removeAttribute("aria-invalid");
}

/** Fetch and draw the chosen range; `background` reloads keep the current chart on screen. */
async function load(background = false) {
  const range = currentRange();
  showRangeProblem(range ? "" : rangeProblem());
  if (!range) return; // nothing is asked for dates that cannot be right
  const ticket = ++state.request;
  state.loadedAt = Date.now();
  if (!background) {
    panel.dataset.state = "loading";
    ordersPending();
    cardsLoading();
  }
  try {
    const url = withQuery("/admin/api/analytics/revenue", {
      period: state.period, start: range[0].toISOString(), end: range[1].toISOString(), tz: TZ,
      currency: pickedCurrency(), compare: compareSelect.value,
    });
    const body = await api.get(url);
    if (ticket !== state.request) return; // a newer choice already asked again
    panel.dataset.source = url;
    state.asked = { period: state.period, start: range[0].toISOString(), end: range[1].toISOString(), tz: TZ };
    state.body = body;
    show(body);
  } catch (err) {
    if (ticket !== state.request) return;
    setPanelState("revenue", "error", err.message);
    setPanelState("revenue-status", "error", "");
    ordersPending(err.message);
    for (const key of CARDS) setCardError(key, err.message);
  }
}

function setTitle(id, text) {
  const title = document.getElementById(`title-${id}`);
  if (title) title.textContent = text;
}

function show(body) {
  state.currency = body.currency || state.currency;
  const code = body.currency;
  picker.show(body);
  const buckets = Array.isArray(body.buckets) ? body.buckets : [];
  const anything = buckets.some((b) => b.revenue_cents || b.transactions);
  panel.dataset.period = state.period;
  panel.dataset.buckets = String(buckets.length);
  panel.dataset.currency = code || "";
  setTitle("revenue", code ? `Revenue (${code})` : "Revenue");
  setTitle("revenue-status", code ? `Transactions by status (${code})` : "Transactions by status");
  setTitle("revenue-orders", code ? `Orders (${code})` : "Orders");
  const cmp = body.compare;
  state.partial = cmp && isNum(cmp.current_bucket) ? cmp.current_bucket : rangeReachesNow() ? buckets.length - 1 : -1;
  if (cmp && !chart.data.datasets[1]) {
    chart.data.datasets.push({ type: "line", label: "", data: [], borderWidth: 2, pointRadius: 2, tension: 0.2 });
  } else if (!cmp && chart.data.datasets[1]) chart.data.datasets.pop();
  const compareLabel = cmp ? `${COMPARE_LABEL[cmp.kind]} (${rangeLabel(cmp.start, cmp.end)})` : "";
  if (cmp) chart.data.datasets[1].label = compareLabel;
  const labels = buckets.map((b, i) => `${LABEL[state.period](b.start)}${i === state.partial ? " (so far)" : ""}`);
  const series = [anything ? buckets.map((b) => (isNum(b.revenue_cents) ? b.revenue_cents / 100 : null)) : []];
  if (cmp) series.push(buckets.map((_, i) => (cmp.buckets[i] ? cmp.buckets[i].revenue_cents / 100 : null)));
  chart.data.labels = labels;
  if (chart.$recolor) chart.$recolor(chart, themeColors());
  const stamps = buckets.map((b) => new Date(b.start).getTime());
  // Before the redraw, so the legend naming the compared period shows with its line.
  chart.options.plugins.legend.display = Boolean(cmp);
  setData(chart, labels, series, stamps);
  drawOrders(body, { labels, stamps, running: state.partial, compareLabel });

  const s = body.summary || {};
  const empty = !anything;
  const range = rangeLabel(body.start, body.end);
  const caption = code ? `${code}, ${range}` : range;
  for (const key of CARDS) setCaption(key, caption);
  const inCode = (v) => money(v, state.currency);
  setCard("total", empty ? null : s.total_cents, inCode);
  if (!empty) {
    // Growth against the same length of time just before; without revenue then there is none.
    const before = rangeLabel(s.previous_start, s.previous_end);
    const label = isNum(s.growth_rate) || !before ? `vs ${before || "previous period"}` : `vs ${before} (nothing earned then)`;
    setTrend("total", isNum(s.growth_rate) ? 1 + s.growth_rate : null, 1, { label, missing: "—" });
  }
  const others = otherTotals(body.currencies, code);
  setExtra("total", others ? `Other currencies: ${others}` : "");
  setCard("orders", empty ? null : s.orders, count);
  setExtra("orders", empty ? "" : `of ${count(s.transactions)} payments in ${code} (every status)`);
  setCard("average", empty ? null : s.average_transaction_cents, inCode);
  setCard("success_rate", empty ? null : s.success_rate, ratio);
  const peak = s.peak || {};
  setCard("peak", empty ? null : peak.revenue_cents, inCode,
    peak.start ? LABEL[state.period](peak.start) : undefined);
  const hint = document.querySelector('[data-card="peak"] .trend-text');
  if (hint) hint.textContent = !empty && peak.start ? LABEL[state.period](peak.start) : "";

  const totals = { completed: 0, pending: 0, failed: 0 };
  for (const b of buckets) for (const key of Object.keys(totals)) totals[key] += b[key] || 0;
  if (buckets.some((b) => isNum(b.refunded))) totals.refunded = buckets.reduce((n, b) => n + (b.refunded || 0), 0);
  status.set(totals);
}

/** The view in the address: dates, bucket size and the zone they are read in (currency.js adds the currency). */
function saveView(push) {
  writeState({ start: startInput.value, end: endInput.value, period: state.period, tz: TZ,
    compare: compareSelect.value }, { push });
}

function pressPeriod(period) {
  state.period = period;
  for (const button of document.querySelectorAll(".period")) {
    button.setAttribute("aria-pressed", String(button.dataset.period === period));
  }
}

/** Dates and bucket size from the address, when it names valid ones. */
function viewFromUrl() {
  const view = readState(["start", "end", "period", "compare"]);
  compareSelect.value = ["previous", "week"].includes(view.compare) ? view.compare : "";
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (day.test(view.start || "") && day.test(view.end || "")) {
    startInput.value = view.start;
    endInput.value = view.end;
  }
  if (["hourly", "daily", "weekly"].includes(view.period)) pressPeriod(view.period);
}

/** A new bucket size over the same dates: the picked range is kept as it is. */
function choosePeriod(period) {
  pressPeriod(period);
  saveView(true);
  load();
}

function init() {
  wireTableToggles();
  document.getElementById("tz-note").textContent = zoneNote();
  startInput.value = dateInputValue(localMidnight(FIRST_RANGE_DAYS - 1));
  endInput.value = dateInputValue(localMidnight(0));
  viewFromUrl();
  saveView(false);
  onPopState(() => {
    viewFromUrl();
    // Every section of the page reads the same inputs: ask them all again.
    document.dispatchEvent(new CustomEvent("live:refresh"));
  });
  for (const button of document.querySelectorAll(".period")) {
    button.addEventListener("click", () => choosePeriod(button.dataset.period));
  }
  compareSelect.addEventListener("change", () => {
    saveView(true);
    load(false);
  });
  document.getElementById("range-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (currentRange()) saveView(true);
    load(false);
  });
  for (const input of [startInput, endInput]) {
    // Say at once when the dates cannot work; the figures are asked for on Apply.
    input.addEventListener("change", () => showRangeProblem(rangeProblem()));
  }
  document.addEventListener("currency:change", () => load(false));
  document.addEventListener("live:refresh", () => load(true));
  // New money only matters when the range reaches today; re-read at most every 10 s.
  document.addEventListener("live:feed", (event) => {
    if (!(event.detail && (event.detail.transactions || []).length)) return;
    if (!rangeReachesNow() || state.timer) return;
    const wait = Math.max(0, RELOAD_MIN_INTERVAL_MS - (Date.now() - state.loadedAt));
    state.timer = setTimeout(() => {
      state.timer = null;
      load(true);
    }, wait);
  });
  load();
}

init();
