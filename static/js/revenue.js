// Revenue page: bar chart by hour/day/week over a date range in the browser's time zone,
// summary cards, and the status split of the same range.
import { api, withQuery } from "./api.js";
import { cardsLoading, setCard, setCardError, setTrend } from "./cards.js";
import { alpha, makeChart, setData, setPanelState, wireTableToggles } from "./charts.js";
import { TZ, count, dateInputValue, fmt, isNum, localMidnight, money, ratio } from "./format.js";
import { statusDoughnut } from "./status-chart.js";

const RELOAD_MIN_INTERVAL_MS = 10000;
// A sensible range per bucket size when the user switches (they can still pick their own).
const DEFAULT_DAYS = { hourly: 2, daily: 14, weekly: 84 };
// Ranges (in days) that make a readable chart per bucket size; outside them switching resets the range.
const FITS = { hourly: [1, 7], daily: [2, 92], weekly: [14, 730] };
const LABEL = {
  hourly: (v) => fmt.dayHour(v),
  daily: (v) => fmt.day(v),
  weekly: (v) => `Week of ${fmt.day(v)}`,
};

const state = { period: "daily", currency: "USD", loadedAt: 0, timer: null, request: 0 };
const panel = document.querySelector('[data-chart="revenue"]');
const startInput = document.getElementById("range-start");
const endInput = document.getElementById("range-end");

function setRange(days) {
  startInput.value = dateInputValue(localMidnight(days - 1));
  endInput.value = dateInputValue(localMidnight(0));
}

/** The chosen dates as [start, end) instants: local midnights, end day included. */
function rangeInstants() {
  const [sy, sm, sd] = startInput.value.split("-").map(Number);
  const [ey, em, ed] = endInput.value.split("-").map(Number);
  return [new Date(sy, sm - 1, sd), new Date(ey, em - 1, ed + 1)];
}

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
  c.data.datasets[0].backgroundColor = alpha(colors.palette[0], 0.8);
});
chart.$labelHeader = "Period";
chart.$formatValue = (v) => (isNum(v) ? money(Math.round(v * 100), state.currency) : "—");
const status = statusDoughnut("revenue-status");

/** Fetch and draw the chosen range; `background` reloads keep the current chart on screen. */
async function load(background = false) {
  const ticket = ++state.request;
  state.loadedAt = Date.now();
  const [start, end] = rangeInstants();
  if (!(end > start)) {
    setPanelState("revenue", "error", "The start date must be before the end date.");
    return;
  }
  if (!background) {
    panel.dataset.state = "loading";
    cardsLoading();
  }
  try {
    const url = withQuery("/admin/api/analytics/revenue", {
      period: state.period, start: start.toISOString(), end: end.toISOString(), tz: TZ,
    });
    const body = await api.get(url);
    if (ticket !== state.request) return; // a newer choice already asked again
    panel.dataset.source = url;
    show(body);
  } catch (err) {
    if (ticket !== state.request) return;
    setPanelState("revenue", "error", err.message);
    setPanelState("revenue-status", "error", "");
    for (const key of ["total", "transactions", "average", "success_rate", "peak"]) setCardError(key, err.message);
  }
}

function show(body) {
  state.currency = body.currency || (body.summary && body.summary.currency) || state.currency;
  const buckets = Array.isArray(body.buckets) ? body.buckets : [];
  const anything = buckets.some((b) => b.revenue_cents || b.transactions);
  panel.dataset.period = state.period;
  panel.dataset.buckets = String(buckets.length);
  setData(chart, buckets.map((b) => LABEL[state.period](b.start)),
    [anything ? buckets.map((b) => (isNum(b.revenue_cents) ? b.revenue_cents / 100 : null)) : []],
    buckets.map((b) => new Date(b.start).getTime()));

  const s = body.summary || {};
  const empty = !anything;
  setCard("total", empty ? null : s.total_cents, (v) => money(v, state.currency));
  if (!empty && isNum(s.growth_rate)) {
    setTrend("total", 1 + s.growth_rate, 1, { label: "vs previous period" });
  }
  setCard("transactions", empty ? null : s.transactions, count);
  setCard("average", empty ? null : s.average_transaction_cents, (v) => money(v, state.currency));
  setCard("success_rate", empty ? null : s.success_rate, ratio);
  const peak = s.peak || {};
  setCard("peak", empty ? null : peak.revenue_cents, (v) => money(v, state.currency),
    peak.start ? LABEL[state.period](peak.start) : undefined);
  const hint = document.querySelector('[data-card="peak"] .trend-text');
  if (hint) hint.textContent = !empty && peak.start ? LABEL[state.period](peak.start) : "";

  const totals = { completed: 0, pending: 0, failed: 0 };
  for (const b of buckets) for (const key of Object.keys(totals)) totals[key] += b[key] || 0;
  if (buckets.some((b) => isNum(b.refunded))) totals.refunded = buckets.reduce((n, b) => n + (b.refunded || 0), 0);
  status.set(totals);
}

function choosePeriod(period) {
  state.period = period;
  for (const button of document.querySelectorAll(".period")) {
    button.setAttribute("aria-pressed", String(button.dataset.period === period));
  }
  const [start, end] = rangeInstants();
  const days = Math.round((end - start) / 86400000);
  if (!(days >= FITS[period][0] && days <= FITS[period][1])) setRange(DEFAULT_DAYS[period]);
  load();
}

function init() {
  wireTableToggles();
  document.getElementById("tz-note").textContent = `Times in ${TZ}`;
  setRange(DEFAULT_DAYS[state.period]);
  for (const button of document.querySelectorAll(".period")) {
    button.addEventListener("click", () => choosePeriod(button.dataset.period));
  }
  document.getElementById("range-form").addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  document.addEventListener("live:refresh", () => load(true));
  // New money only matters when the range reaches today; re-read at most every 10 s.
  document.addEventListener("live:feed", (event) => {
    if (!(event.detail && (event.detail.transactions || []).length)) return;
    if (rangeInstants()[1] < new Date() || state.timer) return;
    const wait = Math.max(0, RELOAD_MIN_INTERVAL_MS - (Date.now() - state.loadedAt));
    state.timer = setTimeout(() => {
      state.timer = null;
      load(true);
    }, wait);
  });
  load();
}

init();
