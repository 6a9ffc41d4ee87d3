// Metrics page: search the catalogue (built-in and pushed series alike), chart one or several
// metrics, each with its own label filters and aggregation ("Add to chart" keeps one while the
// next is picked), over one step and range, one line per series on a time-proportional axis
// (a window without points is a gap in the line). When the socket's "metrics" event names a
// charted metric, the queries are read again (debounced), so pushed points appear live.
import { api, withQuery } from "./api.js";
import { distinctColors, makeChart, setData, setPanelState, themeColors, wireTableToggles } from "./charts.js";
import { fmt, isNum, toDate } from "./format.js";
import { sortableTable } from "./tables.js";
import { onPopState, readState, writeState } from "./url-state.js";

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
const pinnedList = document.getElementById("metric-pinned");
// Queries kept on the chart besides the form's own: {name, match, agg}.
const pinned = [];
// The x axis' tick text: times of day, or day and hour over more than a day.
let tickLabel = (t) => fmt.time(t);

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
    interaction: { mode: "nearest", axis: "x", intersect: false },
    // Epoch milliseconds on a linear axis: distance on screen is distance in time.
    scales: { x: { type: "linear", ticks: { maxTicksLimit: 8, maxRotation: 0, callback: (v) => tickLabel(v) } } },
    plugins: { tooltip: { callbacks: { title: (items) => (items.length ? fmt.dateTime(items[0].parsed.x) : "") } } },
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

// The metric the address names, picked once the catalogue has it as an option.
let wanted = null;
let firstCatalog = true;
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
  const kept = wanted || nameSelect.value;
  wanted = null;
  const options = names.map((n) => new Option(n, n));
  if (!names.length) options.push(new Option("no metric matches", ""));
  nameSelect.replaceChildren(...options);
  if (names.includes(kept)) nameSelect.value = kept;
  meta.textContent = `${names.length} metric${names.length === 1 ? "" : "s"}, ${series.length} series${body.truncated ? " (list cut)" : ""}`;
  if (nameSelect.value !== kept || firstCatalog) {
    firstCatalog = false;
    saveView(false);
    loadQuery();
  }
}

/** The chart's queries in the address: the form's own and the ones kept beside it (`pinned`). */
function saveView(push) {
  writeState({ metric: nameSelect.value, match: matchInput.value.trim(), agg: aggSelect.value,
    step: stepSelect.value, range: rangeSelect.value, pinned: pinned.length ? JSON.stringify(pinned) : "" }, { push });
}

const hasOption = (select, value) => [...select.options].some((o) => o.value === value);

/** Put the address's queries in the form and the kept list (values the form cannot hold are ignored). */
function restoreView() {
  const view = readState(["metric", "match", "agg", "step", "range", "pinned"]);
  matchInput.value = view.match || "";
  aggSelect.value = hasOption(aggSelect, view.agg) ? view.agg : "avg";
  stepSelect.value = hasOption(stepSelect, view.step) ? view.step : "";
  rangeSelect.value = hasOption(rangeSelect, view.range) ? view.range : "1";
  let kept = [];
  try {
    kept = JSON.parse(view.pinned || "[]");
  } catch (err) {
    kept = []; // a damaged link keeps the rest of its view
  }
  const fine = (q) => q && typeof q.name === "string" && q.name && typeof q.match === "string" && hasOption(aggSelect, q.agg);
  pinned.splice(0, pinned.length, ...(Array.isArray(kept) ? kept.filter(fine).map(({ name, match, agg }) => ({ name, match, agg })) : []));
  renderPinned();
  if (view.metric && hasOption(nameSelect, view.metric)) nameSelect.value = view.metric;
  else if (view.metric) wanted = view.metric;
}

/** The queries on the chart: the kept ones, then the form's own unless it is one of them. */
function charted() {
  const own = { name: nameSelect.value, match: matchInput.value.trim(), agg: aggSelect.value };
  const same = (q) => q.name === own.name && q.match === own.match && q.agg === own.agg;
  return own.name && !pinned.some(same) ? [...pinned, own] : [...pinned];
}

function renderPinned() {
  pinnedList.replaceChildren(...pinned.map((q, i) => {
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "btn btn-small";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove ${describe(q)} from the chart`);
    remove.addEventListener("click", () => {
      pinned.splice(i, 1);
      renderPinned();
      saveView(true);
      loadQuery();
    });
    const item = document.createElement("li");
    item.append(describe(q), " ", remove);
    return item;
  }));
  pinnedList.hidden = !pinned.length;
}

const describe = (q) => `${q.agg}(${q.name}${q.match ? `{${q.match}}` : ""})`;

/** Read every charted query over the chosen range and draw one line per series. */
async function loadQuery() {
  const queries = charted();
  const mine = ++ticket;
  showError("");
  if (!queries.length) {
    chart.data.datasets = [];
    setData(chart, [], [], []);
    return;
  }
  const hours = Number(rangeSelect.value) || 1;
  const end = new Date();
  const start = new Date(end.getTime() - hours * HOUR_MS);
  let bodies;
  try {
    bodies = await Promise.all(queries.map((q) => api.get(withQuery("/admin/api/metrics/query", {
      ...q, step: stepSelect.value, start: start.toISOString(), end: end.toISOString() }), { quiet: true })));
  } catch (err) {
    if (mine !== ticket) return;
    const field = err.body && err.body.error && err.body.error.field;
    showError(field ? `${field}: ${err.message}` : err.message);
    setPanelState("metric", "error", err.message);
    return;
  }
  if (mine !== ticket) return; // a newer query was asked for meanwhile
  draw(bodies, hours);
}

function draw(bodies, hours) {
  const lines = bodies.flatMap((body) => (Array.isArray(body.series) ? body.series : []).map((s) => ({ body, s })));
  const stamps = [...new Set(lines.flatMap(({ s }) => s.points.map((p) => toDate(p[0]).getTime())))].sort((a, b) => a - b);
  const index = new Map(stamps.map((t, i) => [t, i]));
  tickLabel = hours > 24 ? (t) => fmt.dayHour(t) : (t) => fmt.time(t);
  const several = bodies.length > 1;
  chart.data.datasets = lines.map(({ body, s }) => ({
    label: `${several && body.agg !== "avg" ? `${body.agg} ` : ""}${body.name}${Object.keys(s.labels).length ? `{${labelText(s.labels)}}` : ""}`,
    // Neighbouring points further apart than 1.5 steps are not joined: the gap shows.
    data: [], borderWidth: 2, pointRadius: 2, tension: 0, spanGaps: body.step * 1500,
  }));
  const values = lines.map(({ s }) => {
    const row = new Array(stamps.length).fill(null);
    for (const [at, v] of s.points) row[index.get(toDate(at).getTime())] = v;
    return row;
  });
  chart.$recolor(chart, themeColors()); // the new datasets take their colours
  const first = bodies[0];
  const unit = first.unit ? ` (${first.unit})` : "";
  document.getElementById("title-metric").textContent = several
    ? `${bodies.length} metrics · per ${first.step} s`
    : `${first.name}${unit} · ${first.agg} per ${first.step} s`;
  setData(chart, stamps, values, stamps);
}

function init() {
  wireTableToggles();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveView(true);
    loadQuery();
  });
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadCatalog, SEARCH_DELAY_MS);
  });
  for (const control of [nameSelect, aggSelect, stepSelect, rangeSelect]) {
    control.addEventListener("change", () => {
      saveView(true);
      loadQuery();
    });
  }
  document.getElementById("metric-add").addEventListener("click", () => {
    const own = charted().at(-1);
    if (own && !pinned.includes(own)) pinned.push(own);
    renderPinned();
    saveView(true);
    loadQuery();
  });
  document.addEventListener("live:metrics", (event) => {
    const names = (event.detail && event.detail.names) || [];
    if (!charted().some((q) => names.includes(q.name))) return;
    clearTimeout(liveTimer);
    liveTimer = setTimeout(() => {
      loadQuery();
      loadCatalog();
    }, LIVE_DELAY_MS);
  });
  document.addEventListener("live:refresh", loadQuery);
  onPopState(() => {
    restoreView();
    loadQuery();
  });
  restoreView();
  loadCatalog();
}

init();
