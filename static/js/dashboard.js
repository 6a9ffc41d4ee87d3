// Overview page: key figures, system load, transaction status, live transactions and activity.
import { api, withQuery } from "./api.js";
import { cardsLoading, setCaption, setCard, setCardError, setExtra, setTrend } from "./cards.js";
import { setPanelState, wireTableToggles } from "./charts.js";
import { currencyPicker, otherTotals, pickedCurrency } from "./currency.js";
import { activityFeed, transactionsTable } from "./feeds.js";
import { TZ, count, fmt, isNum, localMidnight, money, ms, ratio } from "./format.js";
import { exploreHref } from "./links.js";
import { statusDoughnut } from "./status-chart.js";
import { systemChart } from "./system-chart.js";

const DAY_MS = 24 * 60 * 60 * 1000;
// Revenue is re-read at most this often while transactions stream in.
const REVENUE_MIN_INTERVAL_MS = 5000;

let revenueTimer = null;
let revenueTicket = 0;
let revenueAt = 0;
const history = [];

const picker = currencyPicker();

/** Orders (completed transactions) of every currency of an answer: counts add up, money never. */
function ordersOf(answer) {
  return (answer.currencies || []).reduce((n, c) => n + (c.orders || 0), 0);
}

/**
 * Revenue (one currency: the picked one, else the one with the most revenue today) and orders
 * (every currency) so far today, against the same span of yesterday (browser's time zone).
 */
async function loadRevenue() {
  revenueAt = Date.now();
  const now = new Date();
  const today = localMidnight(0);
  const yesterday = localMidnight(1);
  const sameTimeYesterday = new Date(now.getTime() - DAY_MS);
  const query = (start, end, code) => withQuery("/admin/api/analytics/revenue",
    { period: "hourly", start: start.toISOString(), end: end.toISOString(), tz: TZ, currency: code });
  const picked = pickedCurrency();
  const ticket = ++revenueTicket;
  try {
    let [cur, prev] = await Promise.all([api.get(query(today, now, picked)), api.get(query(yesterday, sameTimeYesterday, picked))]);
    // Without a pick the server takes the main currency of each range; compare like with like.
    const code = picked || cur.currency || prev.currency;
    if (ticket !== revenueTicket) return;
    if (!code) {
      // Nothing recorded today or yesterday: say so rather than show a made-up zero.
      setCard("revenue", null);
      setCard("orders", null);
      return;
    }
    if (cur.currency !== code) cur = await api.get(query(today, now, code));
    if (prev.currency !== code) prev = await api.get(query(yesterday, sameTimeYesterday, code));
    if (ticket !== revenueTicket) return; // the admin picked another currency meanwhile
    picker.show(cur);
    // Where the figures came from, so anyone (and the browser tests) can check them.
    const card = document.querySelector('[data-card="revenue"]');
    card.dataset.source = query(today, now, code);
    card.dataset.currency = code;
    const s = cur.summary || {};
    const p = prev.summary || {};
    setCaption("revenue", `${code}, today since midnight`);
    setCard("revenue", s.total_cents, (v) => money(v, code));
    setTrend("revenue", s.total_cents, p.total_cents, { label: "vs same time yesterday" });
    const others = otherTotals(cur.currencies, code);
    setExtra("revenue", others ? `Other currencies: ${others}` : "");
    // Something was recorded today or yesterday, so no order on either side is a real zero.
    const orders = ordersOf(cur);
    setCaption("orders", "completed payments, all currencies, today since midnight");
    setCard("orders", orders, count);
    setTrend("orders", orders, ordersOf(prev), { label: "vs same time yesterday" });
    const split = (cur.currencies || []).filter((c) => c.orders).map((c) => `${c.currency} ${count(c.orders)}`);
    setExtra("orders", split.length > 1 ? split.join(" · ") : "");
  } catch (err) {
    if (ticket !== revenueTicket) return;
    setCardError("revenue", err.message);
    setCardError("orders", err.message);
  }
}

function scheduleRevenue() {
  if (revenueTimer) return;
  const wait = Math.max(0, REVENUE_MIN_INTERVAL_MS - (Date.now() - revenueAt));
  revenueTimer = setTimeout(() => {
    revenueTimer = null;
    loadRevenue();
  }, wait);
}

/** The oldest value of the last five minutes (at least 30 s old) for the trend arrows. */
function reference(key) {
  const now = Date.now();
  const entry = history.find((e) => e.at >= now - 5 * 60 * 1000 && e.at <= now - 30 * 1000 && isNum(e[key]));
  return entry ? { value: entry[key], label: `vs ${fmt.time(entry.at)}` } : { value: null, label: "" };
}

function trend(key, current, higherIsBetter, format) {
  const ref = reference(key);
  setTrend(key, current, ref.value, { higherIsBetter, label: ref.label, format });
}

let shownSeq = -1;

function showSnapshot(snap) {
  // A REST answer may arrive after a newer push: never step back in time. (Pushes arrive in
  // order; a restarted server starts again from seq 1, which "live:refresh" accounts for.)
  if (typeof snap.seq === "number") {
    if (snap.source === "rest" && snap.seq < shownSeq) return;
    shownSeq = snap.seq;
  }
  const req = snap.requests || {};
  const values = { at: Date.now(), active_users: snap.active_users, p95: req.p95_ms, error_rate: req.error_rate };
  history.push(values);
  while (history.length > 400) history.shift();
  setCard("active_users", isNum(snap.active_users) ? snap.active_users : null, count);
  trend("active_users", snap.active_users, true);
  setCard("p95", isNum(req.p95_ms) ? req.p95_ms : null, ms);
  trend("p95", req.p95_ms, false);
  setCard("error_rate", isNum(req.error_rate) ? req.error_rate : null, ratio);
  trend("error_rate", req.error_rate, false, ratio);
  const stamp = document.getElementById("snapshot-time");
  if (stamp && snap.timestamp) {
    stamp.dateTime = snap.timestamp;
    stamp.dataset.seq = String(snap.seq);
    stamp.textContent = fmt.timeSeconds(snap.timestamp);
  }
}

function init() {
  cardsLoading();
  wireTableToggles();
  const system = systemChart("system");
  const status = statusDoughnut("status");
  // Drill-down: a slice opens the last hour's transactions of that status, every currency.
  status.chart.options.onClick = (_event, elements) => {
    if (elements.length && status.chart.$keys) {
      location.assign(exploreHref("transactions", { minutes: 60, tz: TZ, status: status.chart.$keys[elements[0].index] }));
    }
  };
  status.chart.canvas.classList.add("drillable");
  transactionsTable("live-transactions");
  const feed = activityFeed("activity-feed");

  document.addEventListener("live:update", (event) => {
    const snap = event.detail || {};
    showSnapshot(snap);
    const lastHour = snap.transactions && snap.transactions.last_hour;
    if (lastHour) status.set(lastHour);
  });
  document.addEventListener("live:feed", (event) => {
    if (event.detail && (event.detail.transactions || []).length) scheduleRevenue();
  });
  document.addEventListener("currency:change", () => loadRevenue());
  document.addEventListener("live:refresh", (event) => {
    if (event.detail && event.detail.reason === "reconnect") shownSeq = -1;
    loadRevenue();
    feed.reload();
  });

  // First paint: everything at once, over REST; the socket takes over from there.
  loadRevenue();
  system.reload();
  feed.reload();
  api.get("/admin/api/metrics/live").then((snap) => {
    document.dispatchEvent(new CustomEvent("live:update", { detail: Object.assign({}, snap, { source: "rest" }) }));
  }).catch((err) => {
    // The socket may still bring the figures; until then say they could not be loaded.
    for (const key of ["active_users", "p95", "error_rate"]) setCardError(key, err.message);
    setPanelState("status", "error", err.message);
  });
  // Keep the revenue figures current even when no transaction arrives (the day rolls on).
  setInterval(scheduleRevenue, 60000);
}

init();
