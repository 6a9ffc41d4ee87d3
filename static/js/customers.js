// Revenue page, Customers section: new vs returning customers per bucket, repeat purchases,
// orders per paying customer, conversion, value per customer and top customers per currency.
import { api, withQuery } from "./api.js";
import { setCaption, setCard } from "./cards.js";
import { alpha, makeChart, setData, setPanelState } from "./charts.js";
import { TZ, count, isNum, money, plural, ratio } from "./format.js";
import { customerHref } from "./links.js";
import { LABEL, currentPeriod, currentRange, fillTable, num, onRangeChange, rangeLabel } from "./insights-range.js";

const ID = "customers";
const CARDS = ["customers", "new_customers", "repeat_rate", "orders_per_customer", "conversion"];
let request = 0;

const chart = makeChart(ID, {
  type: "bar",
  data: {
    labels: [],
    datasets: [
      { label: "New", data: [], stack: "c", borderWidth: 0 },
      { label: "Returning", data: [], stack: "c", borderWidth: 0 },
    ],
  },
  options: {
    scales: {
      x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 } },
      y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
    },
  },
}, (c, colors) => {
  c.data.datasets[0].backgroundColor = alpha(colors.palette[2], 0.85);
  c.data.datasets[1].backgroundColor = alpha(colors.palette[0], 0.7);
});
chart.$labelHeader = "Period";
chart.$formatValue = (v) => (isNum(v) ? count(v) : "—");

function show(body, period) {
  const buckets = body.buckets || [];
  const s = body.summary || {};
  const any = s.customers > 0;
  setData(chart, buckets.map((b) => LABEL[period](b.start)),
    any ? [buckets.map((b) => b.new), buckets.map((b) => b.returning)] : [[], []],
    buckets.map((b) => new Date(b.start).getTime()));
  // Counts of people and orders: every currency together, over the range the answer counted.
  const range = rangeLabel(body.start, body.end);
  for (const key of CARDS) setCaption(key, `all currencies, ${range}`);
  setCard("customers", any ? s.customers : null, count);
  setCard("new_customers", any ? s.new_customers : null, count);
  setCard("repeat_rate", s.repeat_purchase_rate, ratio);
  setCard("orders_per_customer", s.orders_per_customer, (v) => v.toFixed(2));
  const conv = body.conversion || {};
  setCard("conversion", conv.rate, ratio,
    isNum(conv.rate) ? `${count(conv.converted_users)} of ${plural(conv.active_users, "active user")} bought` : undefined);
  const note = document.getElementById("conversion-note");
  if (note) {
    const without = `${plural(conv.buyers_without_activity, "buyer")} had no recorded activity in the range.`;
    if (!isNum(conv.active_users)) note.textContent = "";
    else if (conv.active_users === 0) note.textContent = `No recorded user activity in the range; ${without}`;
    else {
      note.textContent = `${count(conv.converted_users)} of ${plural(conv.active_users, "active user")} `
        + `completed a purchase; ${without}`;
    }
  }
  const value = body.value || [];
  fillTable("customer-value", value.map((v) => [
    v.currency, num(count(v.paying_customers)), num(money(v.revenue_cents, v.currency)),
    num(money(v.mean_cents, v.currency)), num(money(v.median_cents, v.currency)),
  ]), "No completed purchase in this range");
  fillTable("top-customers", value.flatMap((v) => v.top_customers.map((c) => [
    v.currency, { text: c.customer_id, href: customerHref(c.customer_id) }, num(money(c.revenue_cents, v.currency)), num(count(c.orders)),
  ])), "No completed purchase in this range");
}

async function load(background) {
  const range = currentRange();
  if (!range) return;
  const ticket = ++request;
  const period = currentPeriod();
  if (!background) setPanelState(ID, "loading");
  try {
    const body = await api.get(withQuery("/admin/api/analytics/customers", {
      period, start: range[0].toISOString(), end: range[1].toISOString(), tz: TZ,
    }), { quiet: background });
    if (ticket === request) show(body, period);
  } catch (err) {
    if (ticket !== request) return;
    setPanelState(ID, "error", err.message);
    for (const key of CARDS) setCard(key, null);
  }
}

onRangeChange(load);
