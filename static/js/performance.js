// Performance page: request figures of the chosen window (the cards and the table's "All
// endpoints" row are the same answer), per-minute latency and throughput, machine load, and a
// sortable per-endpoint table.
import { api, withQuery } from "./api.js";
import { cardsLoading, setCaption, setCard, setCardError, windowCaption } from "./cards.js";
import { alpha, makeChart, setData, setPanelState, themeColors, wireTableToggles } from "./charts.js";
import { count, fmt, isNum, ms, ratio, toDate } from "./format.js";
import { systemChart } from "./system-chart.js";
import { exploreHref } from "./links.js";
import { sortableTable } from "./tables.js";
import { onPopState, readState, writeState } from "./url-state.js";

// Per-minute data changes once a minute; re-reading more often would only load the server.
const RELOAD_EVERY_MS = 30000;
const num = (digits) => (v) => (isNum(v) ? v.toFixed(digits) : "—");
// Two decimals below 10 req/min, so a quiet day's 0.42 does not read as 0.4.
const rpm = (v) => (isNum(v) ? v.toFixed(v < 10 ? 2 : 1) : "—");
const COLUMNS = [
  { key: "endpoint", label: "Endpoint", href: (row) => drillHref(row), extra: (row) => row.rule || "" },
  { key: "method", label: "Method" },
  { key: "count", label: "Count", numeric: true, format: count },
  { key: "rpm", label: "rpm", numeric: true, format: rpm },
  { key: "avg_ms", label: "avg (ms)", numeric: true, format: num(1) },
  { key: "p95_ms", label: "p95 (ms)", numeric: true, format: num(1) },
  { key: "p99_ms", label: "p99 (ms)", numeric: true, format: num(1) },
  { key: "error_rate", label: "Error rate", numeric: true, format: ratio },
];

const minutesSelect = document.getElementById("perf-minutes");
let request = 0;
let since = null;

/** Drill-down: an endpoint row opens its per-minute request rows of the same window. */
function drillHref(row) {
  return since && row.endpoint ? exploreHref("requests", { start: since, endpoint: row.endpoint, method: row.method }) : null;
}
const ownToggle = document.getElementById("perf-own");
const compareSelect = document.getElementById("perf-compare");
const table = sortableTable(document.getElementById("endpoints"), COLUMNS, {
  sortKey: "count", empty: "No requests recorded yet",
  onSort: (key, desc) => writeState({ sort: key, dir: desc ? "desc" : "asc" }, { push: true }),
});

/** Window, own-traffic toggle and sorting from the address (a pasted link, back/forward). */
function viewFromUrl() {
  const view = readState(["minutes", "own", "sort", "dir", "compare"]);
  compareSelect.value = ["previous", "week"].includes(view.compare) ? view.compare : "";
  if ([...minutesSelect.options].some((o) => o.value === view.minutes)) minutesSelect.value = view.minutes;
  ownToggle.checked = view.own === "1";
  table.sortBy(view.sort || "count", (view.dir || "desc") === "desc");
}

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
latency.$trimEmpty = "No requests";

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
throughput.$trimEmpty = "No requests";

/** The table rows name the whole minute ("Sat, Nov 7 14:05") whatever the axis shows. */
function minuteLabel(chart) {
  return (i) => {
    const stamp = chart.$stamps && chart.$stamps[i];
    return isNum(stamp) ? `${fmt.day(stamp)} ${fmt.time(stamp)}` : chart.data.labels[i];
  };
}
latency.$rowLabel = minuteLabel(latency);
throughput.$rowLabel = minuteLabel(throughput);

/** The cards: every request of the window, the same figures as the table's "All endpoints" row. */
function showCards(summary, caption) {
  for (const key of ["rpm", "avg", "p95", "error_rate"]) setCaption(key, caption);
  const s = summary || {};
  setCard("rpm", isNum(s.rpm) ? s.rpm : null, rpm);
  setCard("avg", isNum(s.avg_ms) ? s.avg_ms : null, ms);
  setCard("p95", isNum(s.p95_ms) ? s.p95_ms : null, ms);
  setCard("error_rate", isNum(s.count) && s.count > 0 ? s.error_rate : null, ratio);
}

/** The per-minute points of an answer, whatever key holds them; oldest first. */
function timeline(body) {
  const list = ["timeline", "minutes", "series", "points"].map((k) => body[k]).find(Array.isArray) || [];
  return list.map((p) => ({ ...p, $t: toDate(p.minute || p.start || p.timestamp || p.t) }))
    .filter((p) => p.$t).sort((a, b) => a.$t - b.$t);
}

async function load() {
  const minutes = Number(minutesSelect.value) || 60;
  const caption = windowCaption(minutesSelect);
  const ticket = ++request;
  try {
    // The panel's own API calls and live connection are left out unless asked for.
    const body = await api.get(withQuery("/admin/api/performance", {
      minutes, exclude: ownToggle.checked ? null : "panel-api", compare: compareSelect.value,
    }));
    if (ticket !== request) return; // the window changed meanwhile
    since = body.since || null;
    table.setRows(Array.isArray(body.endpoints) ? body.endpoints : []);
    table.setTotal(body.summary && body.summary.count ? body.summary : null, "All endpoints");
    showCards(body.summary, caption);
    const points = timeline(body);
    const label = minutes > 360 ? (p) => fmt.dayHour(p.$t) : (p) => fmt.time(p.$t);
    const stamps = points.map((p) => p.$t.getTime());
    const errorsOf = (p) => (isNum(p.errors) ? p.errors : isNum(p.error_rate) && isNum(p.count) ? Math.round(p.error_rate * p.count) : null);
    setData(latency, points.map(label), [
      points.map((p) => (isNum(p.avg_ms) ? p.avg_ms : null)),
      points.map((p) => (isNum(p.p95_ms) ? p.p95_ms : null)),
      points.map((p) => (isNum(p.p99_ms) ? p.p99_ms : null)),
    ], stamps);
    const series = [points.map((p) => (isNum(p.count) ? p.count : null)), points.map(errorsOf)];
    // The overlay: minute i of the compared window beside minute i of this one.
    const cmp = body.compare;
    if (cmp && !throughput.data.datasets[2]) {
      throughput.data.datasets.push({ type: "line", label: "", data: [], borderWidth: 2, pointRadius: 0, tension: 0.2 });
    } else if (!cmp && throughput.data.datasets[2]) throughput.data.datasets.pop();
    if (cmp) {
      const byMinute = new Map(cmp.timeline.map((p, i) => [i, p.count]));
      const offset = (body.timeline || []).length - cmp.timeline.length;
      throughput.data.datasets[2].label = cmp.kind === "week" ? "Same window last week" : "Window before";
      const colors = themeColors();
      throughput.data.datasets[2].borderColor = colors.palette[3];
      series.push(points.map((p) => {
        const i = (body.timeline || []).findIndex((t) => t.minute === p.minute) - offset;
        return byMinute.has(i) ? byMinute.get(i) : null;
      }));
    }
    setData(throughput, points.map(label), series, stamps);
  } catch (err) {
    if (ticket !== request) return;
    setPanelState("latency", "error", err.message);
    setPanelState("throughput", "error", err.message);
    table.showMessage(`Could not load the endpoints. ${err.message}`);
    table.setTotal(null);
    for (const key of ["rpm", "avg", "p95", "error_rate"]) setCardError(key, err.message);
  }
}

function init() {
  cardsLoading();
  wireTableToggles();
  const system = systemChart("system");
  document.addEventListener("live:refresh", () => {
    load();
    system.reload();
  });
  // The cards keep their figures and caption until the new window's answer replaces both.
  viewFromUrl();
  minutesSelect.addEventListener("change", () => {
    writeState({ minutes: minutesSelect.value }, { push: true });
    load();
  });
  compareSelect.addEventListener("change", () => {
    writeState({ compare: compareSelect.value }, { push: true });
    load();
  });
  ownToggle.addEventListener("change", () => {
    writeState({ own: ownToggle.checked ? "1" : null }, { push: true });
    load();
  });
  onPopState(() => {
    viewFromUrl();
    load();
  });
  load();
  system.reload();
  setInterval(load, RELOAD_EVERY_MS);
}

init();
