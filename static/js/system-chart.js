// The CPU / memory / disk line chart: the last hour from /metrics/system, then one point per
// live_update (a rolling one-hour window, updated in place without a redraw from scratch).
import { api, withQuery } from "./api.js";
import { alpha, makeChart, pushPoint, setData, setPanelState } from "./charts.js";
import { fmt, isNum, pct, toDate } from "./format.js";

const WINDOW_MS = 60 * 60 * 1000;
const FIELDS = [
  ["cpu_percent", "CPU %"],
  ["memory_percent", "Memory %"],
  ["disk_percent", "Disk %"],
];

/** The samples of a /metrics/system answer, whatever key holds them; oldest first. */
export function systemSamples(body) {
  if (!body || typeof body !== "object") return [];
  const list = ["points", "samples", "series", "metrics", "data"].map((k) => body[k]).find(Array.isArray);
  if (list) return list.map(normalise).filter(Boolean).sort((a, b) => a.t - b.t);
  // Columnar form: {timestamps: [...], cpu_percent: [...], ...}
  const stamps = body.timestamps || body.times || body.t;
  if (Array.isArray(stamps)) {
    return stamps.map((s, i) => normalise(Object.fromEntries([["timestamp", s],
      ...FIELDS.map(([key]) => [key, (body[key] || [])[i]])]))).filter(Boolean);
  }
  return [];
}

function normalise(item) {
  const date = toDate(item.recorded_at || item.timestamp || item.time || item.at || item.t || item.minute);
  if (!date) return null;
  const out = { t: date.getTime() };
  for (const [key] of FIELDS) out[key] = isNum(item[key]) ? item[key] : null;
  return out;
}

function tickLabel(value) {
  const stamps = this.chart.$stamps;
  if (!stamps || !stamps.length || stamps[value] === undefined) return this.getLabelForValue(value);
  const short = stamps[stamps.length - 1] - stamps[0] < 10 * 60 * 1000;
  return short ? fmt.timeSeconds(stamps[value]) : fmt.time(stamps[value]);
}

/** Build the chart on panel `id` and keep it live; returns {chart, reload}. */
export function systemChart(id = "system") {
  const chart = makeChart(id, {
    type: "line",
    data: { labels: [], datasets: FIELDS.map(([, label]) => ({ label, data: [], borderWidth: 2, pointRadius: 0, tension: 0.25, spanGaps: true })) },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: {
        y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } },
        // Axis ticks say hours and minutes (with seconds while the window spans only minutes);
        // tooltips and the table keep the seconds.
        x: { ticks: { maxTicksLimit: 6, maxRotation: 0, autoSkip: true, callback: tickLabel } },
      },
      plugins: { tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${pct(ctx.parsed.y)}` } } },
    },
  }, (c, colors) => {
    c.data.datasets.forEach((ds, i) => {
      ds.borderColor = colors.palette[i];
      ds.backgroundColor = alpha(colors.palette[i], 0.15);
    });
  });
  chart.$labelHeader = "Time";
  chart.$formatValue = (v) => pct(v);

  async function reload() {
    try {
      const body = await api.get(withQuery("/admin/api/metrics/system", { minutes: 60 }));
      const samples = systemSamples(body);
      setData(chart, samples.map((s) => fmt.timeSeconds(s.t)),
        FIELDS.map(([key]) => samples.map((s) => s[key])), samples.map((s) => s.t));
    } catch (err) {
      setPanelState(id, "error", err.message);
    }
  }

  document.addEventListener("live:update", (event) => {
    const snap = event.detail || {};
    const sys = snap.system;
    const date = toDate(snap.timestamp);
    if (!sys || !date) return;
    pushPoint(chart, date.getTime(), fmt.timeSeconds(date), FIELDS.map(([key]) => (isNum(sys[key]) ? sys[key] : null)), WINDOW_MS);
  });
  document.addEventListener("live:refresh", reload);
  return { chart, reload };
}
