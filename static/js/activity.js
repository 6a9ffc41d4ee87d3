// Activity page: active users, actions by kind (polar area), weekday-by-hour heatmap,
// and the live activity feed and transactions.
import { api, withQuery } from "./api.js";
import { cardsLoading, setCaption, setCard, setCardError, windowCaption } from "./cards.js";
import { alpha, distinctColors, makeChart, setData, setPanelState, themeColors, wireTableToggles } from "./charts.js";
import { activityFeed, transactionsTable } from "./feeds.js";
import { TZ, count, isNum, zoneNote } from "./format.js";
import { drawHeatmap } from "./heatmap.js";
import { exploreHref } from "./links.js";
import { onPopState, readState, writeState } from "./url-state.js";

const RELOAD_MIN_INTERVAL_MS = 10000;
const minutesSelect = document.getElementById("activity-minutes");
const state = { loadedAt: 0, timer: null, request: 0 };

const actions = makeChart("actions", {
  type: "polarArea",
  data: { labels: [], datasets: [{ label: "Actions", data: [], borderWidth: 1 }] },
  options: {
    plugins: { legend: { position: window.matchMedia("(max-width: 600px)").matches ? "bottom" : "right" } },
    scales: { r: { beginAtZero: true, ticks: { backdropColor: "transparent" } } },
  },
}, (c, colors) => {
  const ds = c.data.datasets[0];
  ds.backgroundColor = distinctColors(c.data.labels.length, colors.palette).map((hex) => alpha(hex, 0.7));
  ds.borderColor = colors.surface;
  if (c.options.scales.r.ticks) c.options.scales.r.ticks.color = colors.muted;
});
actions.$labelHeader = "Action";
actions.$formatValue = (v) => count(v);

/** {action: n} or [{action, count}] → sorted [[action, n]], most frequent first. */
function actionPairs(byAction) {
  if (!byAction) return [];
  const pairs = Array.isArray(byAction)
    ? byAction.map((a) => [a.action || a.name, a.count ?? a.n])
    : Object.entries(byAction);
  return pairs.filter(([name, n]) => name && isNum(n) && n > 0).sort((a, b) => b[1] - a[1]);
}

async function load(feed) {
  state.loadedAt = Date.now();
  const minutes = Number(minutesSelect.value) || 30;
  const caption = windowCaption(minutesSelect);
  const ticket = ++state.request;
  try {
    const body = await api.get(withQuery("/admin/api/user-activity", { minutes, limit: 25, tz: TZ }));
    if (ticket !== state.request) return; // the window changed meanwhile
    // Every figure below covers the selected window (the heatmap says its own).
    for (const key of ["active_users", "actions", "top_action"]) setCaption(key, caption);
    const title = document.getElementById("title-actions");
    if (title) title.textContent = `User actions, ${caption}`;
    setCard("active_users", isNum(body.active_users) ? body.active_users : null, count);
    const pairs = actionPairs(body.by_action);
    const total = pairs.reduce((n, [, v]) => n + v, 0);
    setCard("actions", pairs.length ? total : null, count);
    setCard("top_action", pairs.length ? pairs[0][1] : null, (v) => `${pairs[0][0]} (${count(v)})`);
    setData(actions, pairs.map(([name]) => name), [pairs.map(([, n]) => n)]);
    // One colour per action: the number of slices changed, so colour them again.
    actions.$recolor(actions, themeColors());
    actions.update();
    const until = new Date().toISOString();
    drawHeatmap("heatmap", body.heatmap, (weekday, hour) => exploreHref("activities", {
      start: body.heatmap_since, end: until, tz: TZ, weekday, hour }));
    const range = document.getElementById("heatmap-range");
    if (range) range.textContent = isNum(body.heatmap_days) ? `last ${body.heatmap_days} days; ${zoneNote()}` : zoneNote();
    if (feed) feed.merge(body.recent || []);
  } catch (err) {
    if (ticket !== state.request) return;
    setPanelState("actions", "error", err.message);
    setPanelState("heatmap", "error", err.message);
    for (const key of ["active_users", "actions", "top_action"]) setCardError(key, err.message);
  }
}

function init() {
  cardsLoading();
  wireTableToggles();
  const feed = activityFeed("activity-feed");
  transactionsTable("live-transactions");
  // The window lives in the address, so a link or back/forward shows the same one.
  const fromUrl = () => {
    const { minutes } = readState(["minutes"]);
    if ([...minutesSelect.options].some((o) => o.value === minutes)) minutesSelect.value = minutes;
  };
  fromUrl();
  onPopState(() => {
    fromUrl();
    load(null);
  });
  minutesSelect.addEventListener("change", () => {
    writeState({ minutes: minutesSelect.value, tz: TZ }, { push: true });
    load(null);
  });
  document.addEventListener("live:refresh", () => load(feed));
  // New activity moves the counts: re-read them, at most every 10 s.
  document.addEventListener("live:feed", (event) => {
    if (!(event.detail && (event.detail.activities || []).length) || state.timer) return;
    const wait = Math.max(0, RELOAD_MIN_INTERVAL_MS - (Date.now() - state.loadedAt));
    state.timer = setTimeout(() => {
      state.timer = null;
      load(null);
    }, wait);
  });
  load(feed);
  // The transactions table starts from the live snapshot's recent list.
  api.get("/admin/api/metrics/live").then((snap) => {
    document.dispatchEvent(new CustomEvent("live:update", { detail: Object.assign({}, snap, { source: "rest" }) }));
  }).catch((err) => console.warn("live snapshot unavailable:", err.message));
}

init();
