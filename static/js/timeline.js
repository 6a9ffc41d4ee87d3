// Overview: one timeline where revenue per 15 minutes, the failed-payment rate, the request error
// rate and p95 latency share one time axis, with the alert windows shaded, and a table of those
// windows with the money at risk (revenue during the window vs the same window a week earlier).
// Service monitors' down windows are shaded and listed the same way.
import { api, withQuery } from "./api.js";
import { alpha, makeChart, refreshChart, setPanelState } from "./charts.js";
import { pickedCurrency } from "./currency.js";
import { el } from "./dom.js";
import { TZ, fmt, isNum, money, ms } from "./format.js";
import { exploreHref } from "./links.js";

const ID = "timeline";
const HOURS = 24;
const STEP_MS = 15 * 60 * 1000;
// Re-read at most this often on live updates (the server caches the timeline for 30 s anyway).
const RELOAD_EVERY_MS = 60000;
const state = { currency: null, loadedAt: 0, request: 0, shade: "rgba(212, 60, 60, 0.14)" };

/**
 * Shades each alert window behind the datasets. Bars sit on bucket centres, so bucket i spans
 * i - 0.5 .. i + 0.5 on the category axis; a window is placed by its times, not rounded to buckets.
 */
const alertWindows = {
  id: "alertWindows",
  beforeDatasetsDraw(chart) {
    const windows = chart.$alertWindows || [];
    const first = chart.$firstStart;
    const x = chart.scales.x;
    const area = chart.chartArea;
    chart.$shaded = [];
    if (!windows.length || !isNum(first) || !x || !area) return;
    const ctx = chart.ctx;
    ctx.save();
    for (const w of windows) {
      const from = (w.start - first) / STEP_MS - 0.5;
      const to = (w.end - first) / STEP_MS - 0.5;
      const left = Math.max(area.left, x.getPixelForValue(from));
      const right = Math.min(area.right, x.getPixelForValue(to));
      if (!(right > left)) continue;
      ctx.fillStyle = w.severity === "critical" ? state.shade : alpha(state.warn || "#c77d00", 0.14);
      ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
      chart.$shaded.push({ id: w.id, left, right, title: w.title });
    }
    ctx.restore();
  },
};

const chart = makeChart(ID, {
  type: "bar",
  data: {
    labels: [],
    datasets: [
      { type: "bar", label: "Revenue", yAxisID: "money", data: [], borderWidth: 0, order: 4 },
      { type: "line", label: "Failed payments %", yAxisID: "pct", data: [], pointRadius: 0, borderWidth: 2, spanGaps: false, order: 1 },
      { type: "line", label: "Error rate %", yAxisID: "pct", data: [], pointRadius: 0, borderWidth: 2, spanGaps: false, order: 2 },
      { type: "line", label: "p95 ms", yAxisID: "ms", data: [], pointRadius: 0, borderWidth: 2, borderDash: [4, 3], spanGaps: false, order: 3 },
    ],
  },
  options: {
    interaction: { mode: "index", intersect: false },
    scales: {
      x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
      money: { position: "left", beginAtZero: true, title: { display: true, text: "Revenue" },
               ticks: { callback: (v) => money(v * 100, state.currency || "USD").replace(/\.00$/, "") } },
      pct: { position: "right", beginAtZero: true, suggestedMax: 5, title: { display: true, text: "%" },
             grid: { drawOnChartArea: false } },
      ms: { position: "right", beginAtZero: true, title: { display: true, text: "p95 ms" },
            grid: { drawOnChartArea: false } },
    },
    plugins: {
      tooltip: {
        callbacks: {
          label: (ctx) => `${ctx.dataset.label}: ${formatValue(ctx.parsed.y, ctx.dataset)}`,
        },
      },
    },
  },
  plugins: [alertWindows],
}, (c, colors) => {
  const [rev, failed, errors, p95] = c.data.datasets;
  rev.backgroundColor = alpha(colors.palette[0], 0.55);
  failed.borderColor = colors.bad;
  errors.borderColor = colors.palette[1];
  p95.borderColor = colors.palette[3];
  state.shade = alpha(colors.bad, 0.14);
  state.warn = colors.warn;
});
chart.$labelHeader = "15 minutes from";

function formatValue(value, dataset) {
  if (!isNum(value)) return "—";
  if (dataset.yAxisID === "money") return money(Math.round(value * 100), state.currency || "USD");
  if (dataset.yAxisID === "ms") return ms(value);
  return `${value.toFixed(2)} %`;
}
chart.$formatValue = formatValue;

const pct = (v) => (isNum(v) ? Math.round(v * 10000) / 100 : null);

function riskCell(list, key) {
  if (!list.length) return "—";
  return list.map((m) => money(m[key], m.currency)).join(" · ");
}

function renderAlerts(alerts) {
  const body = document.querySelector("#timeline-alerts tbody");
  if (!body) return;
  body.replaceChildren();
  if (!alerts.length) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = 6;
    cell.className = "empty-cell";
    cell.textContent = `No alert was open and no monitor was down in the last ${HOURS} hours`;
    return;
  }
  for (const a of alerts) {
    const row = body.insertRow();
    if (a.monitor) row.dataset.monitorId = String(a.monitor_id);
    else row.dataset.alertId = String(a.id);
    const title = row.insertCell();
    title.className = `sev-${a.severity}`;
    // Drill-down: the window's log lines at warning and up, and its transactions.
    const win = { start: a.started_at, end: a.ended_at, tz: TZ };
    title.append(el("a", { href: exploreHref("logs", { ...win, level: "warning" }), text: a.title }), " ",
      el("a", { class: "muted", href: exploreHref("transactions", { ...win, currency: state.currency }), text: "transactions" }));
    row.insertCell().textContent = `${fmt.day(a.started_at)} ${fmt.time(a.started_at)} – ${a.open ? "still open" : fmt.time(a.ended_at)}`;
    const risk = a.money_at_risk || [];
    for (const key of ["during_cents", "week_before_cents", "difference_cents"]) {
      const cell = row.insertCell();
      cell.className = "num";
      cell.textContent = riskCell(risk, key);
    }
    const change = row.insertCell();
    change.className = "num";
    const main = risk.find((m) => m.currency === state.currency) || risk[0];
    change.textContent = main && isNum(main.change) ? `${(main.change * 100).toFixed(1)} %` : "—";
  }
}

function show(body) {
  const buckets = body.buckets || [];
  state.currency = body.currency;
  chart.$firstStart = buckets.length ? new Date(buckets[0].start).getTime() : null;
  // A monitor down window is an outage: shaded like a critical alert.
  const monitorWindows = (body.monitor_windows || []).map((w) => ({ ...w, severity: "critical", monitor: true }));
  const windows = [...(body.alerts || []), ...monitorWindows];
  chart.$alertWindows = windows.map((a) => ({
    id: a.monitor ? `monitor-${a.monitor_id}-${a.started_at}` : a.id, title: a.title, severity: a.severity,
    start: new Date(a.started_at).getTime(), end: new Date(a.ended_at).getTime(),
  }));
  chart.$stamps = buckets.map((b) => new Date(b.start).getTime());
  chart.data.labels = buckets.map((b) => fmt.time(b.start));
  const [rev, failed, errors, p95] = chart.data.datasets;
  rev.label = body.currency ? `Revenue (${body.currency})` : "Revenue";
  rev.data = buckets.map((b) => b.revenue_cents / 100);
  failed.data = buckets.map((b) => pct(b.failed_payment_rate));
  errors.data = buckets.map((b) => pct(b.error_rate));
  p95.data = buckets.map((b) => b.p95_ms);
  const anything = buckets.some((b) => b.revenue_cents || b.payments || b.requests) || chart.$alertWindows.length;
  refreshChart(chart);
  setPanelState(ID, anything ? "ready" : "empty");
  const panel = document.querySelector(`[data-chart="${ID}"]`);
  if (panel) panel.dataset.alerts = String(chart.$alertWindows.length);
  if (panel) panel.dataset.monitorWindows = String(monitorWindows.length);
  renderAlerts(windows.sort((x, y) => new Date(x.started_at) - new Date(y.started_at)));
}

async function load() {
  const ticket = ++state.request;
  state.loadedAt = Date.now();
  try {
    const body = await api.get(withQuery("/admin/api/timeline", { hours: HOURS, tz: TZ, currency: pickedCurrency() }), { quiet: true });
    if (ticket === state.request) show(body);
  } catch (err) {
    if (ticket === state.request) setPanelState(ID, "error", err.message);
  }
}

function init() {
  // The page's own script wires every "Show as table" button, this panel's included.
  document.addEventListener("live:refresh", load);
  document.addEventListener("live:alert", load);
  document.addEventListener("live:monitor", load);
  document.addEventListener("currency:change", load);
  document.addEventListener("live:update", () => {
    if (Date.now() - state.loadedAt >= RELOAD_EVERY_MS) load();
  });
  load();
}

init();
