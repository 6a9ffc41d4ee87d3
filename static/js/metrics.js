// Metrics page: search the catalogue (built-in and pushed series alike), chart one metric with
// label filters, an aggregation, a step and a range, one line per series. When the socket's
// "metrics" event names the charted metric, the query is read again (debounced), so pushed
// points appear without a reload.
import { api, withQuery } from "./api.js";
import { distinctColors, makeChart, setData, setPanelState, themeColors, wireTableToggles } from "./charts.js";
import { fmt, isNum, toDate } from "./format.js";
import { sortableTable } from "./tables.js";

const SEARCH_DELAY_MS = 250;
// Several batches in a burst (an exporter pushing every second) make one refetch, not many.
const LIVE_DELAY_MS = 400;
const HOUR_MS = 3600 * 1000;

const form = document.getElementById("metric-form");
const search = document.getElementById("metric-search");
const nameSelect = document.getElementById("metric-name");
const matchInput = document.getElementById("metric-match");
const aggSelect = document.getElementById("metric-agg");
const stepSelect = document.getElementById("metric-step");
const rangeSelect = document.getElementById("metric-range");
const errorBox = document.getElementById("metric-error");
const meta = document.getElementById("metric-meta");

/** A value as pushed: up to 12 significant digits, so 0.1 + 0.2 does not read 0.30000000000000004. */
const plain = (v) => (isNum(v) ? String(Number(v.toPrecision(12))) : "—");
const labelText = (labels) => Object.entries(labels || {}).map(([k, v]) => `${k}="${v}"`).join(", ");

const catalogTable = sortableTable(document.getElementById("catalog"), [
  { key: "name", label: "Name" },
  { key: "labels", label: "Labels", format: (v) => labelText(v) || "—" },
  { key: "type", label: "Type" },
  { key: "last_value", label: "Last value", numeric: true, format: plain },
  { key: "last_at", label: "Last point", format: (v) => (v ? fmt.dateTime(v) : "—") },
  { key: "points_per_minute", label: "Points / min", numeric: true, format: plain },
], { sortKey: "name", descending: false, empty: "No metric matches" });

const chart = makeChart("metric", {
  type: "line",
  data: { labels: [], datasets: [] },
  options: {
    interaction: { mode: "index", intersect: false },
    scales: { x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } } },
  },
}, (c, colors) => {
  const palette = distinctColors(c.data.datasets.length, colors.palette);
  c.data.datasets.forEach((ds, i) => {
    ds.borderColor = palette[i];
    ds.backgroundColor = palette[i];
  });
});
chart.$labelHeader = "Time";
chart.$formatValue = plain;
chart.$rowLabel = (i) => {
  const stamp = chart.$stamps && chart.$stamps[i];
  return isNum(stamp) ? fmt.dateTime(stamp) : chart.data.labels[i];
};

let searchTimer = null;
let liveTimer = null;
let ticket = 0;

function showError(message) {
  errorBox.textContent = message || "";
  errorBox.hidden = !message;
}

/** Fill the catalogue table and the name picker with the series whose names contain the search. */
async function loadCatalog() {
  const q = search.value.trim();
  let body;
  try {
    body = await api.get(withQuery("/admin/api/metrics/catalog", { q }), { quiet: true });
  } catch (err) {
    catalogTable.showMessage(`Could not load the catalogue. ${err.message}`);
    return;
  }
  const series = Array.isArray(body.series) ? body.series : [];
  catalogTable.setRows(series);
  const names = [...new Set(series.map((s) => s.name))].sort();
  const kept = nameSelect.value;
  const options = names.map((n) => new Option(n, n));
  if (!names.length) options.push(new Option("no metric matches", ""));
  nameSelect.replaceChildren(...options);
  if (names.includes(kept)) nameSelect.value = kept;
  meta.textContent = `${names.length} metric${names.length === 1 ? "" : "s"}, ${series.length} series${body.truncated ? " (list cut)" : ""}`;
  if (nameSelect.value !== kept) loadQuery();
}

/** Read the chosen metric over the chosen range and draw one line per series. */
async function loadQuery() {
  const name = nameSelect.value;
  const mine = ++ticket;
  showError("");
  if (!name) {
    setData(chart, [], [], []);
    return;
  }
  const hours = Number(rangeSelect.value) || 1;
  const end = new Date();
  const start = new Date(end.getTime() - hours * HOUR_MS);
  const params = { name, agg: aggSelect.value, step: stepSelect.value, match: matchInput.value.trim(),
                   start: start.toISOString(), end: end.toISOString() };
  let body;
  try {
    body = await api.get(withQuery("/admin/api/metrics/query", params), { quiet: true });
  } catch (err) {
    if (mine !== ticket) return;
    const field = err.body && err.body.error && err.body.error.field;
    showError(field ? `${field}: ${err.message}` : err.message);
    setPanelState("metric", "error", err.message);
    return;
  }
  if (mine !== ticket) return; // a newer query was asked for meanwhile
  draw(body, hours);
}

function draw(body, hours) {
  const series = Array.isArray(body.series) ? body.series : [];
  const stamps = [...new Set(series.flatMap((s) => s.points.map((p) => toDate(p[0]).getTime())))].sort((a, b) => a - b);
  const index = new Map(stamps.map((t, i) => [t, i]));
  const label = hours > 24 ? (t) => fmt.dayHour(t) : (t) => fmt.time(t);
  chart.data.datasets = series.map((s) => ({
    label: `${body.name}${Object.keys(s.labels).length ? `{${labelText(s.labels)}}` : ""}`,
    data: [], borderWidth: 2, pointRadius: 2, tension: 0.2, spanGaps: true,
  }));
  const values = series.map((s) => {
    const row = new Array(stamps.length).fill(null);
    for (const [at, v] of s.points) row[index.get(toDate(at).getTime())] = v;
    return row;
  });
  chart.$recolor(chart, themeColors()); // the new datasets take their colours
  const unit = body.unit ? ` (${body.unit})` : "";
  document.getElementById("title-metric").textContent = `${body.name}${unit} · ${body.agg} per ${body.step} s`;
  setData(chart, stamps.map(label), values, stamps);
}

function init() {
  wireTableToggles();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    loadQuery();
  });
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadCatalog, SEARCH_DELAY_MS);
  });
  for (const control of [nameSelect, aggSelect, stepSelect, rangeSelect]) control.addEventListener("change", loadQuery);
  document.addEventListener("live:metrics", (event) => {
    const names = (event.detail && event.detail.names) || [];
    if (!names.includes(nameSelect.value)) return;
    clearTimeout(liveTimer);
    liveTimer = setTimeout(() => {
      loadQuery();
      loadCatalog();
    }, LIVE_DELAY_MS);
  });
  document.addEventListener("live:refresh", loadQuery);
  loadCatalog();
}

init();
