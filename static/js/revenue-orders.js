// Revenue page: completed orders per bucket, the same buckets as the revenue chart, with the
// compared period's orders (the revenue answer's compare.buckets[].orders) drawn over them when a
// comparison is chosen. The bucket still running is drawn lighter and labelled "(so far)", as on
// the revenue chart.
import { alpha, makeChart, setData, setPanelState, themeColors } from "./charts.js";
import { count, isNum } from "./format.js";

let partial = -1;

const chart = makeChart("revenue-orders", {
  type: "bar",
  data: { labels: [], datasets: [{ label: "Orders", data: [], borderWidth: 0, borderRadius: 3 }] },
  options: {
    scales: {
      y: { beginAtZero: true, ticks: { precision: 0 } },
      x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 } },
    },
    plugins: {
      legend: { display: false },
      tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${count(ctx.parsed.y)}` } },
    },
  },
}, (c, colors) => {
  // The same colours as the revenue chart: current bars, the compared period as a line.
  c.data.datasets[0].backgroundColor = c.data.labels.map((_, i) => alpha(colors.palette[0], i === partial ? 0.35 : 0.8));
  if (c.data.datasets[1]) {
    c.data.datasets[1].borderColor = colors.palette[3];
    c.data.datasets[1].backgroundColor = alpha(colors.palette[3], 0.2);
  }
});
chart.$labelHeader = "Period";
chart.$formatValue = (v) => (isNum(v) ? count(v) : "—");

/** The chart waits for an answer (`message` given: the answer failed). */
export function ordersPending(message) {
  setPanelState("revenue-orders", message === undefined ? "loading" : "error", message || "");
}

/**
 * Draw the answer's completed orders per bucket. `labels` and `stamps` are the revenue chart's
 * (so the two charts name the same buckets), `running` the index of the bucket holding now (-1:
 * none), `compareLabel` the legend of the compared period when `body.compare` is there.
 */
export function drawOrders(body, { labels, stamps, running, compareLabel }) {
  const buckets = Array.isArray(body.buckets) ? body.buckets : [];
  const cmp = body.compare;
  partial = running;
  if (cmp && !chart.data.datasets[1]) {
    chart.data.datasets.push({ type: "line", label: "", data: [], borderWidth: 2, pointRadius: 2, tension: 0.2 });
  } else if (!cmp && chart.data.datasets[1]) chart.data.datasets.pop();
  if (cmp) chart.data.datasets[1].label = compareLabel;
  const anything = buckets.some((b) => b.completed) || (cmp && cmp.buckets.some((b) => b.orders));
  const series = [anything ? buckets.map((b) => (isNum(b.completed) ? b.completed : null)) : []];
  if (cmp) series.push(anything ? buckets.map((_, i) => (cmp.buckets[i] ? cmp.buckets[i].orders : null)) : []);
  chart.data.labels = labels;
  chart.$recolor(chart, themeColors()); // the running bucket may have moved
  chart.options.plugins.legend.display = Boolean(cmp);
  setData(chart, labels, series, stamps);
}
