// Performance page: live request figures, per-minute latency and throughput, machine load,
// and a sortable per-endpoint table.
import { api, withQuery } from "./api.js";
import { cardsLoading, setCard, setCardError } from "./cards.js";
import { alpha, makeChart, setData, setPanelState, wireTableToggles } from "./charts.js";
import { count, fmt, isNum, ms, ratio, toDate } from "./format.js";
import { systemChart } from "./system-chart.js";
import { sortableTable } from "./tables.js";

// Per-minute data changes once a minute; re-reading more often would only load the server.
const RELOAD_EVERY_MS = 30000;
const num = (digits) => (v) => (isNum(v) ? v.toFixed(digits) : "—");
const COLUMNS = [
  { key: "endpoint", label: "Endpoint" },
  { key: "method", label: "Method" },
  { key: "count", label: "Count", numeric: true, format: count },
  { key: "rpm", label: "rpm", numeric: true, format: num(1) },
  { key: "avg_ms", label: "avg (ms)", numeric: true, format: num(1) },
  { key: "p95_ms", label: "p95 (ms)", numeric: true, format: num(1) },
  { key: "p99_ms", label: "p99 (ms)", numeric: true, format: num(1) },
  { key: "error_rate", label: "Error rate", numeric: true, format: ratio },
];

const minutesSelect = document.getElementById("perf-minutes");
const table = sortableTable(document.getElementById("endpoints"), COLUMNS, { sortKey: "count", empty: "No requests recorded yet" });

const latency = makeChart("latency", {
  type: "line",
  data: { labels: [], datasets: [
    { label: "avg (ms)", data: [], borderWidth: 2, pointRadius: 2, tension: 0.25, spanGaps: true },
    { label: "p95 (ms)", data: [], borderWidth: 2, pointRadius: 2, tension: 0.25, spanGaps: true },
    { label: "p99 (ms)", data: [], borderWidth: 1, pointRadius: 2, tension: 0.25, spanGaps: true, borderDash: [4, 3] },
  ] },
  options: {
    interaction: { mode: "index", intersect: false },
    scales: { y: { beginAtZero: true }, x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } } },
  },
}, (c, colors) => c.data.datasets.forEach((ds, i) => {
  ds.borderColor = colors.palette[i + 1];
  ds.backgroundColor = alpha(colors.palette[i + 1], 0.15);
}));
latency.$labelHeader = "Minute";
latency.$formatValue = (v) => ms(v);

const throughput = makeChart("throughput", {
  type: "bar",
  data: { labels: [], datasets: [
    { label: "Requests", data: [], borderWidth: 0, stack: "r" },
    { label: "Errors", data: [], borderWidth: 0, stack: "e" },
  ] },
  options: { scales: { y: { beginAtZero: true }, x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } } } },
}, (c, colors) => {
  c.data.datasets[0].backgroundColor = alpha(colors.palette[0], 0.75);
  c.data.datasets[1].backgroundColor = colors.bad;
});
throughput.$labelHeader = "Minute";
throughput.$formatValue = (v) => count(v);

/** The per-minute points of an answer, whatever key holds them; oldest first. */
function timeline(body) {
  const list = ["timeline", "minutes", "series", "points"].map((k) => body[k]).find(Array.isArray) || [];
  return list.map((p) => ({ ...p, $t: toDate(p.minute || p.start || p.timestamp || p.t) }))
    .filter((p) => p.$t).sort((a, b) => a.$t - b.$t);
}

async function load() {
  const minutes = Number(minutesSelect.value) || 60;
  try {
    const body = await api.get(withQuery("/admin/api/performance", { minutes }));
    table.setRows(Array.isArray(body.endpoints) ? body.endpoints : []);
    const points = timeline(body);
    const label = minutes > 360 ? (p) => fmt.dayHour(p.$t) : (p) => fmt.time(p.$t);
    const errorsOf = (p) => (isNum(p.errors) ? p.errors : isNum(p.error_rate) && isNum(p.count) ? Math.round(p.error_rate * p.count) : null);
    setData(latency, points.map(label), [
      points.map((p) => (isNum(p.avg_ms) ? p.avg_ms : null)),
      points.map((p) => (isNum(p.p95_ms) ? p.p95_ms : null)),
      points.map((p) => (isNum(p.p99_ms) ? p.p99_ms : null)),
    ]);
    setData(throughput, points.map(label), [points.map((p) => (isNum(p.count) ? p.count : null)), points.map(errorsOf)]);
  } catch (err) {
    setPanelState("latency", "error", err.message);
    setPanelState("throughput", "error", err.message);
    table.showMessage(`Could not load the endpoints. ${err.message}`);
  }
}

function init() {
  cardsLoading();
  wireTableToggles();
  const system = systemChart("system");
  document.addEventListener("live:update", (event) => {
    const req = (event.detail || {}).requests || {};
    setCard("rpm", isNum(req.rpm) ? req.rpm : null, (v) => v.toFixed(1));
    setCard("avg", isNum(req.avg_ms) ? req.avg_ms : null, ms);
    setCard("p95", isNum(req.p95_ms) ? req.p95_ms : null, ms);
    setCard("error_rate", isNum(req.error_rate) ? req.error_rate : null, ratio);
  });
  document.addEventListener("live:refresh", () => {
    load();
    system.reload();
  });
  minutesSelect.addEventListener("change", load);
  load();
  system.reload();
  api.get("/admin/api/metrics/live").then((snap) => {
    document.dispatchEvent(new CustomEvent("live:update", { detail: Object.assign({}, snap, { source: "rest" }) }));
  }).catch((err) => ["rpm", "avg", "p95", "error_rate"].forEach((key) => setCardError(key, err.message)));
  setInterval(load, RELOAD_EVERY_MS);
}

init();
