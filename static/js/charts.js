// Chart.js helpers shared by the pages: theme colours, panels with loading/empty states,
// a rolling time window, and the "show as table" toggle every chart has.
//
// A panel is the markup of the `chart_panel` macro (templates/_macros.html):
//   <section class="card chart-panel" data-chart="ID" data-state="loading|empty|ready|error">
//     ... <canvas id="chart-ID"> ... <div class="chart-table" id="table-ID"> ...

const Chart = window.Chart;
const charts = new Set();
// Index into the palette (CSS variables --c1..--c8) by dataset role, so colours mean the same everywhere.
const PALETTE_VARS = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6", "--c7", "--c8"];

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The current theme's colours, read from the CSS variables of app.css. */
export function themeColors() {
  return {
    text: cssVar("--text"),
    muted: cssVar("--muted"),
    grid: cssVar("--border"),
    surface: cssVar("--surface"),
    palette: PALETTE_VARS.map(cssVar),
    ok: cssVar("--ok"),
    warn: cssVar("--warn"),
    bad: cssVar("--bad"),
  };
}

/** A colour with alpha from a #rrggbb value. */
export function alpha(hex, a) {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || "");
  if (!m) return hex;
  return `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${a})`;
}

/**
 * `n` colours that all differ: the palette first, then hues spread by the golden angle (so a
 * ninth action never repeats the first one's colour).
 */
export function distinctColors(n, palette) {
  const out = palette.slice(0, n);
  for (let i = out.length; i < n; i += 1) {
    const hue = (i - palette.length) * 137.508 + 20;
    out.push(hslHex(hue % 360, 62, 48 + ((i % 3) - 1) * 8));
  }
  return out;
}

function hslHex(h, s, l) {
  const a = (s / 100) * Math.min(l / 100, 1 - l / 100);
  const channel = (k) => {
    const v = l / 100 - a * Math.max(-1, Math.min((k + h / 30) % 12 - 3, 9 - ((k + h / 30) % 12), 1));
    return Math.round(v * 255).toString(16).padStart(2, "0");
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

// Below this width (a phone) axis titles are dropped: the legend already names each series and
// its unit, and a title squeezed beside the tick labels would sit on top of them.
const NARROW_PX = 480;
const titleShown = new WeakMap();
const compactAxes = {
  id: "compactAxes",
  beforeUpdate(chart) {
    const scales = chart.options.scales || {};
    if (!titleShown.has(chart)) {
      titleShown.set(chart, Object.fromEntries(Object.entries(scales)
        .map(([id, scale]) => [id, Boolean(scale.title && scale.title.display)])));
    }
    const wanted = titleShown.get(chart);
    const narrow = chart.width > 0 && chart.width < NARROW_PX;
    for (const [id, scale] of Object.entries(scales)) {
      if (wanted[id]) scale.title.display = !narrow;
    }
  },
};

function applyDefaults() {
  if (!Chart) return;
  if (!Chart.registry.plugins.get("compactAxes")) Chart.register(compactAxes);
  const c = themeColors();
  Chart.defaults.color = c.muted;
  Chart.defaults.borderColor = c.grid;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.responsive = true;
  // Live charts move every second: animations would only cost battery.
  Chart.defaults.animation = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  // Time labels keep a clear gap: Chart.js skips labels until this many pixels separate them.
  Chart.defaults.scale.ticks.autoSkipPadding = 14;
}

/**
 * Create a chart on the panel's canvas. `recolor(chart, colors)` sets dataset colours and is called
 * again whenever the theme changes, so charts follow dark mode without being rebuilt.
 */
export function makeChart(id, config, recolor) {
  if (!Chart) throw new Error("Chart.js did not load");
  applyDefaults();
  const canvas = document.getElementById(`chart-${id}`);
  const chart = new Chart(canvas, config);
  chart.$recolor = recolor || null;
  chart.$panelId = id;
  charts.add(chart);
  if (recolor) {
    recolor(chart, themeColors());
    // A full update: mode "none" keeps the element options Chart.js already resolved.
    chart.update();
  }
  canvas.chart = chart;
  return chart;
}

function recolorAll() {
  applyDefaults();
  const colors = themeColors();
  for (const chart of charts) {
    for (const scale of Object.values(chart.options.scales || {})) {
      if (scale.ticks) scale.ticks.color = colors.muted;
      if (scale.grid) scale.grid.color = colors.grid;
      if (scale.pointLabels) scale.pointLabels.color = colors.muted;
    }
    if (chart.options.plugins && chart.options.plugins.legend) {
      chart.options.plugins.legend.labels.color = colors.muted;
    }
    if (chart.$recolor) chart.$recolor(chart, colors);
    chart.update();
  }
}

document.addEventListener("themechange", recolorAll);
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", recolorAll);

/** Set a panel's state: "loading", "empty" (no data yet), "ready" or "error". */
export function setPanelState(id, state, message) {
  const panel = document.querySelector(`[data-chart="${id}"]`);
  if (!panel) return;
  panel.dataset.state = state;
  const note = panel.querySelector(".panel-note");
  if (note) note.textContent = message || "";
}

/**
 * Redraw a chart in place and keep its table (if shown) in step. `mode` "none" is for live
 * points (cheapest: reuses resolved styles); the default re-resolves colours (new slices, theme).
 */
export function refreshChart(chart, mode) {
  chart.update(mode);
  const hasData = chart.data.datasets.some((ds) => ds.data.some((v) => v !== null && v !== undefined));
  setPanelState(chart.$panelId, hasData ? "ready" : "empty");
  renderTable(chart);
}

/** Replace labels and every dataset's data at once (e.g. after a REST fetch). */
export function setData(chart, labels, series, stamps) {
  chart.data.labels = labels;
  series.forEach((values, i) => {
    if (chart.data.datasets[i]) chart.data.datasets[i].data = values;
  });
  chart.$stamps = stamps || null;
  refreshChart(chart);
}

/**
 * Add one point per dataset at time `stamp` (ms) and drop points older than `windowMs`:
 * the rolling window of the live line charts.
 */
export function pushPoint(chart, stamp, label, values, windowMs) {
  if (!chart.$stamps) chart.$stamps = [];
  const stamps = chart.$stamps;
  if (stamps.length && stamp <= stamps[stamps.length - 1]) return false;
  stamps.push(stamp);
  chart.data.labels.push(label);
  values.forEach((v, i) => chart.data.datasets[i] && chart.data.datasets[i].data.push(v));
  const oldest = stamp - windowMs;
  while (stamps.length && stamps[0] < oldest) {
    stamps.shift();
    chart.data.labels.shift();
    chart.data.datasets.forEach((ds) => ds.data.shift());
  }
  refreshChart(chart, "none");
  return true;
}

/** Number of real (non-null) points in a chart: what the tests and the empty state look at. */
export function pointCount(chart) {
  return chart.data.datasets.reduce((n, ds) => n + ds.data.filter((v) => v !== null && v !== undefined).length, 0);
}

/** Render the chart's data as an accessible table when the panel's table is shown. */
export function renderTable(chart) {
  const box = document.getElementById(`table-${chart.$panelId}`);
  if (!box || box.hidden) return;
  const fmtValue = chart.$formatValue || ((v) => (v === null || v === undefined ? "—" : String(v)));
  const table = document.createElement("table");
  table.className = "data-table";
  const caption = document.createElement("caption");
  const panel = box.closest(".chart-panel");
  const title = panel ? panel.querySelector("h2") : null;
  caption.textContent = title ? title.textContent : "Chart data";
  table.append(caption);
  const head = table.createTHead().insertRow();
  const corner = document.createElement("th");
  corner.scope = "col";
  corner.textContent = chart.$labelHeader || "";
  head.append(corner);
  for (const ds of chart.data.datasets) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = ds.label || "value";
    head.append(th);
  }
  const body = table.createTBody();
  const note = (text) => {
    const cell = body.insertRow().insertCell();
    cell.colSpan = chart.data.datasets.length + 1;
    cell.className = "empty-cell";
    cell.textContent = text;
  };
  // `$rowLabel(i)` may say more than the axis label (the minute, not only the hour).
  const rowLabel = chart.$rowLabel || ((i) => chart.data.labels[i]);
  // `$trimEmpty` (e.g. "No requests") drops the empty rows before the first and after the last
  // value and says so, instead of listing a day of empty minutes.
  let first = 0;
  let last = chart.data.labels.length - 1;
  if (chart.$trimEmpty) {
    const filled = (i) => chart.data.datasets.some((ds) => ![null, undefined, 0].includes(ds.data[i]));
    while (first <= last && !filled(first)) first += 1;
    while (last >= first && !filled(last)) last -= 1;
    if (first > last && chart.data.labels.length) note(`${chart.$trimEmpty} in this window`);
    else if (first > 0) note(`${chart.$trimEmpty} before ${rowLabel(first)}`);
  }
  for (let i = first; i <= last; i += 1) {
    const row = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = rowLabel(i);
    row.append(th);
    for (const ds of chart.data.datasets) row.insertCell().textContent = fmtValue(ds.data[i], ds);
  }
  if (chart.$trimEmpty && first <= last && last < chart.data.labels.length - 1) {
    note(`${chart.$trimEmpty} after ${rowLabel(last)}`);
  }
  if (!chart.data.labels.length) note("No data yet");
  box.replaceChildren(table);
}

/** Wire every "Show as table" button on the page to its chart. */
export function wireTableToggles() {
  for (const button of document.querySelectorAll(".table-toggle[data-target]")) {
    button.addEventListener("click", () => {
      const id = button.dataset.target;
      const box = document.getElementById(`table-${id}`);
      const canvas = document.getElementById(`chart-${id}`);
      const show = box.hidden;
      box.hidden = !show;
      button.setAttribute("aria-pressed", String(show));
      button.textContent = show ? "Show as chart" : "Show as table";
      const panel = button.closest(".chart-panel");
      if (panel) panel.classList.toggle("as-table", show);
      if (show && canvas && canvas.chart) renderTable(canvas.chart);
      else if (show && typeof box.$render === "function") box.$render();
    });
  }
}

/** The chart drawn on panel `id`, if any (used by the pages and the browser tests). */
export function chartFor(id) {
  const canvas = document.getElementById(`chart-${id}`);
  return canvas ? canvas.chart || null : null;
}

window.panel = window.panel || {};
window.panel.charts = { chartFor, pointCount };
