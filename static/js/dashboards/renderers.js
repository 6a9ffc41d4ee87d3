// The ten widget renderers. Each takes the widget's panel element, the widget (its type, queries,
// options) and its results (one per query: {data} or {error}) and draws them; charts use Chart.js
// through the shared helpers (theme colours, states, "Show as table").
import { alpha, distinctColors, makeChart, renderTable, setPanelState, themeColors } from "../charts.js";
import { drawHeatmap } from "../heatmap.js";
import { fmt, isNum, money, toDate } from "../format.js";
import { caption, formatValue, thresholdColor } from "./format.js";

const CHARTS = new Set(["line", "bar", "pie", "gauge", "sparkline", "heatmap"]);

/** Whether a widget type draws a chart (and so has "Show as table"). */
export function isChart(type) {
  return CHARTS.has(type);
}

function firstData(results) {
  const ok = (results || []).find((r) => r && r.data);
  return ok ? ok.data : null;
}

function seriesLabel(query, labels) {
  const text = Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`).join(", ");
  const name = query.metric || query.panel;
  return text ? `${name} {${text}}` : name;
}

/** One figure: the query's reduced value, else the last point of its first series. */
export function figureOf(data) {
  if (!data) return null;
  if ("value" in data) return isNum(data.value) ? data.value : null;
  const s = (data.series || [])[0];
  return s && s.points.length ? s.points[s.points.length - 1][1] : null;
}

function timeSeries(widget, results) {
  const stamps = new Set();
  const sets = [];
  (results || []).forEach((r, qi) => {
    if (!r || !r.data || !r.data.series) return;
    for (const s of r.data.series) {
      const values = new Map(s.points.map(([t, v]) => [toDate(t).getTime(), v]));
      values.forEach((_, t) => stamps.add(t));
      sets.push({ label: seriesLabel(widget.queries[qi], s.labels), values, currency: r.data.currency });
    }
  });
  const times = [...stamps].sort((a, b) => a - b);
  return { times, sets };
}

function valueText(widget, data) {
  return (v) => formatValue(v, widget.options, data && data.currency);
}

/** A chart just made (``makeChart`` has drawn it once): its state and table, without a second draw. */
function refreshChart(chart) {
  const hasData = chart.data.datasets.some((ds) => ds.data.some((v) => v !== null && v !== undefined));
  setPanelState(chart.$panelId, hasData ? "ready" : "empty");
  renderTable(chart);
}

function chartOn(panel, config, recolor) {
  const id = panel.dataset.chart;
  const canvas = panel.querySelector("canvas");
  if (canvas.chart) canvas.chart.destroy();
  return makeChart(id, config, recolor);
}

function drawTimeChart(panel, widget, results, kind) {
  const { times, sets } = timeSeries(widget, results);
  const color = widget.options.color;
  const chart = chartOn(panel, {
    type: kind,
    data: { labels: times.map((t) => fmt.time(new Date(t))),
      datasets: sets.map((s) => ({ label: s.label, data: times.map((t) => (s.values.has(t) ? s.values.get(t) : null)),
        spanGaps: true, pointRadius: kind === "line" ? 1.5 : 0, tension: 0.2 })) },
    options: { plugins: { legend: { display: sets.length > 1 } },
      scales: { y: { beginAtZero: true, ticks: { callback: (v) => valueText(widget, firstData(results))(v) } } } },
  }, (c, colors) => {
    const palette = distinctColors(c.data.datasets.length, color ? [color, ...colors.palette] : colors.palette);
    c.data.datasets.forEach((ds, i) => {
      const base = palette[i];
      ds.borderColor = base;
      ds.backgroundColor = kind === "bar"
        ? ds.data.map((v) => thresholdColor(v, widget.options.thresholds) || alpha(base, 0.75)) : alpha(base, 0.15);
    });
  });
  chart.$labelHeader = "Time";
  chart.$rowLabel = (i) => fmt.dateTime(new Date(times[i]));
  chart.$formatValue = (v) => valueText(widget, firstData(results))(v);
  refreshChart(chart);
}

function slices(widget, results) {
  const data = firstData(results);
  if (data && data.rows) return data.rows.map((r) => [String(r[0]), r[1]]);
  const out = [];
  (results || []).forEach((r, qi) => {
    for (const s of (r && r.data && r.data.series) || []) {
      out.push([seriesLabel(widget.queries[qi], s.labels), s.points.reduce((a, p) => a + (p[1] || 0), 0)]);
    }
  });
  return out;
}

function drawPie(panel, widget, results) {
  const rows = slices(widget, results);
  const chart = chartOn(panel, {
    type: "pie",
    data: { labels: rows.map((r) => r[0]), datasets: [{ label: widget.title, data: rows.map((r) => r[1]) }] },
    options: { plugins: { legend: { position: "bottom" } } },
  }, (c, colors) => {
    c.data.datasets[0].backgroundColor = distinctColors(rows.length, colors.palette);
    c.data.datasets[0].borderColor = colors.surface;
  });
  chart.$labelHeader = "Slice";
  chart.$formatValue = (v) => valueText(widget, firstData(results))(v);
  refreshChart(chart);
}

// A list (a panel query's rows) as bars: one bar a row, its label the first column, its value the second.
function drawListBar(panel, widget, results) {
  const rows = slices(widget, results);
  const color = widget.options.color;
  const chart = chartOn(panel, {
    type: "bar",
    data: { labels: rows.map((r) => r[0]), datasets: [{ label: widget.title, data: rows.map((r) => r[1]) }] },
    options: { plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { callback: (v) => valueText(widget, firstData(results))(v) } } } },
  }, (c, colors) => {
    const base = color || colors.palette[0];
    c.data.datasets[0].borderColor = base;
    c.data.datasets[0].backgroundColor = c.data.datasets[0].data.map((v) => thresholdColor(v, widget.options.thresholds) || alpha(base, 0.75));
  });
  chart.$labelHeader = "Row";
  chart.$formatValue = (v) => valueText(widget, firstData(results))(v);
  refreshChart(chart);
}

function limits(widget, value) {
  const o = widget.options;
  const low = isNum(o.min) ? o.min : 0;
  const high = isNum(o.max) ? o.max : isNum(o.target) ? o.target : Math.max(value || 0, 1);
  return [low, high];
}

function drawGauge(panel, widget, results) {
  const data = firstData(results);
  const value = figureOf(data);
  const [low, high] = limits(widget, value);
  const filled = isNum(value) ? Math.max(0, Math.min(value, high) - low) : 0;
  const chart = chartOn(panel, {
    type: "doughnut",
    data: { labels: ["Value", "Rest"], datasets: [{ label: widget.title, data: [filled, Math.max(0, high - low - filled)] }] },
    options: { rotation: -90, circumference: 180, cutout: "70%", plugins: { legend: { display: false }, tooltip: { enabled: false } } },
  }, (c, colors) => {
    const fill = thresholdColor(value, widget.options.thresholds) || widget.options.color || colors.palette[0];
    c.data.datasets[0].backgroundColor = [fill, colors.grid];
    c.data.datasets[0].borderWidth = 0;
  });
  chart.$labelHeader = "Part";
  chart.$rowLabel = (i) => (i === 0 ? `Value (${valueText(widget, data)(value)} of ${valueText(widget, data)(high)})` : "Rest to maximum");
  chart.$formatValue = (v) => valueText(widget, data)(v);
  const label = panel.querySelector(".gauge-value");
  label.textContent = valueText(widget, data)(value);
  label.dataset.raw = String(value);
  refreshChart(chart);
  if (!isNum(value)) setPanelState(panel.dataset.chart, "empty");
}

function drawSparkline(panel, widget, results) {
  const data = firstData(results);
  const s = data && data.series && data.series[0];
  const points = s ? s.points : [];
  const value = figureOf(data);
  const chart = chartOn(panel, {
    type: "line",
    data: { labels: points.map((p) => fmt.time(toDate(p[0]))), datasets: [{ label: widget.title, data: points.map((p) => p[1]), pointRadius: 0, fill: true, tension: 0.3 }] },
    options: { plugins: { legend: { display: false } }, scales: { x: { display: false }, y: { display: false, beginAtZero: true } } },
  }, (c, colors) => {
    const base = thresholdColor(value, widget.options.thresholds) || widget.options.color || colors.palette[0];
    c.data.datasets[0].borderColor = base;
    c.data.datasets[0].backgroundColor = alpha(base, 0.15);
  });
  chart.$labelHeader = "Time";
  chart.$rowLabel = (i) => fmt.dateTime(toDate(points[i][0]));
  chart.$formatValue = (v) => valueText(widget, data)(v);
  const label = panel.querySelector(".spark-value");
  label.textContent = valueText(widget, data)(value);
  label.dataset.raw = String(value);
  refreshChart(chart);
}

function setFigure(node, widget, data, value) {
  node.textContent = valueText(widget, data)(value);
  node.dataset.raw = String(value);
  const color = thresholdColor(value, widget.options.thresholds);
  node.classList.toggle("has-threshold", Boolean(color));
  if (color) node.style.setProperty("--threshold", color);
}

function drawCard(panel, widget, results) {
  const data = firstData(results);
  const value = figureOf(data);
  setFigure(panel.querySelector(".widget-figure"), widget, data, value);
  panel.querySelector(".widget-caption").textContent = caption(widget.queries[0], data);
  panel.dataset.state = isNum(value) ? "ready" : "empty";
}

function drawKpi(panel, widget, results) {
  drawCard(panel, widget, results);
  const data = firstData(results);
  const value = figureOf(data);
  const target = widget.options.target;
  const line = panel.querySelector(".kpi-target");
  if (!isNum(target)) { line.textContent = "No target set"; return; }
  const share = isNum(value) && target ? value / target : null;
  line.textContent = `Target ${valueText(widget, data)(target)} · ${isNum(share) ? Math.round(share * 100) : "—"} % of target`;
  line.classList.toggle("kpi-met", isNum(value) && value >= target);
  line.classList.toggle("kpi-missed", isNum(value) && value < target);
}

function drawProgress(panel, widget, results) {
  drawCard(panel, widget, results);
  const data = firstData(results);
  const value = figureOf(data);
  const [low, high] = limits(widget, value);
  const bar = panel.querySelector(".progress-bar");
  const share = isNum(value) ? Math.max(0, Math.min(1, (value - low) / (high - low))) : 0;
  bar.style.setProperty("--share", String(share));
  const color = thresholdColor(value, widget.options.thresholds) || widget.options.color;
  if (color) bar.style.setProperty("--fill", color);
  const track = panel.querySelector(".progress-track");
  track.setAttribute("aria-valuenow", String(isNum(value) ? value : 0));
  track.setAttribute("aria-valuemin", String(low));
  track.setAttribute("aria-valuemax", String(high));
  panel.querySelector(".progress-note").textContent = `${Math.round(share * 100)} % of ${valueText(widget, data)(high)}`;
}

function cellText(column, value, currency) {
  if (column.endsWith("_cents") && isNum(value)) return money(value, currency || "USD");
  if (column.endsWith("_at") && value) return fmt.dateTime(toDate(value));
  if (column === "uptime_24h" && isNum(value)) return `${(value * 100).toFixed(2)} %`;
  return value === null || value === undefined ? "—" : String(value);
}

function drawTable(panel, widget, results) {
  const data = firstData(results);
  let columns = [];
  let rows = [];
  if (data && data.rows) {
    columns = data.columns;
    rows = data.rows.map((r) => r.map((v, i) => cellText(columns[i], v, data.currency)));
  } else {
    columns = ["series", "last", "sum"];
    (results || []).forEach((r, qi) => {
      for (const s of (r && r.data && r.data.series) || []) {
        const last = s.points.length ? s.points[s.points.length - 1][1] : null;
        const sum = s.points.reduce((a, p) => a + (p[1] || 0), 0);
        rows.push([seriesLabel(widget.queries[qi], s.labels), valueText(widget, r.data)(last), valueText(widget, r.data)(sum)]);
      }
    });
  }
  const table = document.createElement("table");
  table.className = "data-table";
  const head = table.createTHead().insertRow();
  for (const c of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = c.replace(/_cents$/, "").replace(/_/g, " ");
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const v of r) tr.insertCell().textContent = v;
  }
  if (!rows.length) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = Math.max(1, columns.length);
    cell.className = "empty-cell";
    cell.textContent = "No data yet";
  }
  panel.querySelector(".table-scroll").replaceChildren(table);
  panel.dataset.state = rows.length ? "ready" : "empty";
}

function drawHeat(panel, widget, results) {
  const data = firstData(results);
  drawHeatmap(panel.dataset.chart, data ? data.grid : []);
}

export const RENDERERS = {
  metric_card: drawCard,
  kpi: drawKpi,
  progress: drawProgress,
  gauge: drawGauge,
  sparkline: drawSparkline,
  line: (p, w, r) => drawTimeChart(p, w, r, "line"),
  bar: (p, w, r) => { const d = firstData(r); return d && d.rows ? drawListBar(p, w, r) : drawTimeChart(p, w, r, "bar"); },
  pie: drawPie,
  table: drawTable,
  heatmap: drawHeat,
};

/** Draw `results` into the widget's panel; a failed query shows its message instead. */
export function render(panel, widget, results) {
  const failed = (results || []).find((r) => r && r.error);
  if (failed && !firstData(results)) {
    panel.dataset.state = "error";
    const note = panel.querySelector(".panel-note");
    if (note) note.textContent = failed.error.message;
    return;
  }
  RENDERERS[widget.type](panel, widget, results);
}

export { themeColors };
