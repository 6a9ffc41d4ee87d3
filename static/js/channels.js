// Revenue page, Channels section: revenue per sales channel per bucket (stacked bars) and the
// channels side by side: revenue, orders, success rate, average order and share of revenue.
import { api, withQuery } from "./api.js";
import { alpha, distinctColors, makeChart, setData, setPanelState, themeColors } from "./charts.js";
import { pickedCurrency } from "./currency.js";
import { TZ, count, isNum, money, ratio } from "./format.js";
import { exploreHref } from "./links.js";
import { LABEL, currentPeriod, currentRange, fillTable, num, onRangeChange } from "./insights-range.js";

const ID = "channels";
const state = { request: 0, currency: null };

function paint(c, colors) {
  const hues = distinctColors(c.data.datasets.length, colors.palette);
  c.data.datasets.forEach((ds, i) => {
    ds.backgroundColor = alpha(hues[i], 0.8);
  });
}

const chart = makeChart(ID, {
  type: "bar",
  data: { labels: [], datasets: [] },
  options: {
    scales: {
      x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 } },
      y: { stacked: true, beginAtZero: true,
           ticks: { callback: (v) => money(v * 100, state.currency || "USD").replace(/\.00$/, "") } },
    },
    plugins: {
      tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${money(Math.round(ctx.parsed.y * 100), state.currency || "USD")}` } },
    },
  },
}, paint);
chart.$labelHeader = "Period";
chart.$formatValue = (v) => (isNum(v) ? money(Math.round(v * 100), state.currency || "USD") : "—");

function show(body, period) {
  state.currency = body.currency;
  const suffix = body.currency ? ` (${body.currency})` : "";
  for (const [id, title] of [["channels", "Revenue by channel"], ["channel-table", "Channels side by side"]]) {
    const heading = document.getElementById(`title-${id}`);
    if (heading) heading.textContent = title + suffix;
  }
  const channels = body.channels || [];
  const buckets = body.buckets || [];
  chart.data.datasets = channels.map((c) => ({ label: c.label, data: [], stack: "ch", borderWidth: 0 }));
  paint(chart, themeColors());
  const any = channels.some((c) => c.transactions > 0);
  setData(chart, buckets.map((b) => LABEL[period](b.start)),
    any ? channels.map((c) => buckets.map((b) => (b.revenue_cents[c.channel] || 0) / 100)) : channels.map(() => []),
    buckets.map((b) => new Date(b.start).getTime()));
  const cur = body.currency || "USD";
  const drill = (c, extra = {}) => exploreHref("transactions", { ...state.asked, channel: c.label, status: "completed", ...extra });
  chart.options.onClick = (_event, elements) => {
    const hit = elements[0];
    if (hit && channels[hit.datasetIndex] && buckets[hit.index]) {
      location.assign(drill(channels[hit.datasetIndex], { bucket: buckets[hit.index].start }));
    }
  };
  chart.canvas.classList.add("drillable");
  fillTable("channel-table", channels.map((c) => [
    { text: c.label, href: drill(c) }, num(money(c.revenue_cents, cur)), num(count(c.orders)), num(count(c.transactions)),
    num(ratio(c.success_rate)), num(isNum(c.average_order_cents) ? money(c.average_order_cents, cur) : "—"),
    num(ratio(c.revenue_share)),
  ]), "No transaction in this range");
}

async function load(background) {
  const range = currentRange();
  if (!range) return;
  const ticket = ++state.request;
  const period = currentPeriod();
  if (!background) setPanelState(ID, "loading");
  try {
    const body = await api.get(withQuery("/admin/api/analytics/channels", {
      period, start: range[0].toISOString(), end: range[1].toISOString(), tz: TZ,
      currency: pickedCurrency(),
    }), { quiet: background });
    if (ticket === state.request) {
      state.asked = { period, start: range[0].toISOString(), end: range[1].toISOString(), tz: TZ, currency: body.currency };
      show(body, period);
    }
  } catch (err) {
    if (ticket === state.request) setPanelState(ID, "error", err.message);
  }
}

document.addEventListener("currency:change", () => load(false));
onRangeChange(load);
