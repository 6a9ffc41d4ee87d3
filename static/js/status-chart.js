// Doughnut of transaction status (completed / pending / failed / refunded).
import { makeChart, refreshChart, themeColors } from "./charts.js";
import { count, isNum } from "./format.js";

const STATUSES = [
  ["completed", "Completed", "ok"],
  ["pending", "Pending", "warn"],
  ["failed", "Failed", "bad"],
  ["refunded", "Refunded", null],
];

/** Build the doughnut on panel `id`; `.set(counts)` takes {completed, pending, failed, refunded?}. */
export function statusDoughnut(id = "status") {
  const chart = makeChart(id, {
    type: "doughnut",
    data: { labels: [], datasets: [{ label: "Transactions", data: [], borderWidth: 1 }] },
    options: { cutout: "60%", plugins: { legend: { position: "bottom" } } },
  }, (c, colors) => {
    const ds = c.data.datasets[0];
    ds.backgroundColor = c.$keys ? c.$keys.map((key) => {
      const role = (STATUSES.find((s) => s[0] === key) || [])[2];
      return role ? colors[role] : colors.palette[4];
    }) : [];
    ds.borderColor = colors.surface;
  });
  chart.$labelHeader = "Status";
  chart.$formatValue = (v) => count(v);

  function set(counts) {
    // Only the statuses the answer carries; all zero means "no data yet", not a fake ring.
    const present = STATUSES.filter(([key]) => isNum(counts[key]));
    const total = present.reduce((n, [key]) => n + counts[key], 0);
    chart.$keys = present.map(([key]) => key);
    chart.data.labels = present.map(([, label]) => label);
    chart.data.datasets[0].data = total > 0 ? present.map(([key]) => counts[key]) : [];
    if (chart.$recolor) chart.$recolor(chart, themeColors());
    refreshChart(chart);
  }
  return { chart, set };
}
