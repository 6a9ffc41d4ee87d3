// Live transactions table and live activity feed: filled over REST, then grown by the
// "feed" server event (what was ingested since the last tick) and each live_update's recent list.
import { api, withQuery } from "./api.js";
import { ago, fmt, money, toDate } from "./format.js";
import { customerHref, orderHref } from "./links.js";
import { liveRows } from "./tables.js";

const TX_COLUMNS = [
  { key: "created_at", label: "Time", format: (v) => fmt.timeSeconds(v) },
  { key: "id", label: "Transaction", href: (tx) => orderHref(tx.id) },
  { key: "customer_id", label: "Customer", href: (tx) => customerHref(tx.customer_id) },
  { key: "channel", label: "Channel" },
  { key: "amount_cents", label: "Amount", numeric: true, format: (v, row) => money(v, row.currency) },
  { key: "status", label: "Status", badge: true },
];

/** The latest transactions of an answer, whatever key holds them. */
function txList(body) {
  if (!body) return [];
  const found = ["recent", "latest", "transactions", "items"].map((k) => body[k]).find(Array.isArray);
  return found || [];
}

/** Live transactions table in <table id=tableId>, newest first; returns {rows}. */
export function transactionsTable(tableId = "live-transactions", max = 15) {
  const table = document.getElementById(tableId);
  const rows = liveRows(table.tBodies[0], TX_COLUMNS, {
    idKey: "id", max, empty: "No transactions yet", order: (tx) => (toDate(tx.created_at) || 0).valueOf(),
  });
  let loaded = false;

  document.addEventListener("live:update", (event) => {
    const recent = txList((event.detail || {}).transactions);
    // The first snapshot fills the table; later ones only add what the feed may have missed.
    if (!loaded) rows.replace(recent);
    else rows.add(recent.filter((tx) => !table.querySelector(`tr[data-id="${CSS.escape(String(tx.id))}"]`)), false);
    loaded = true;
  });
  document.addEventListener("live:feed", (event) => {
    const items = (event.detail && event.detail.transactions) || [];
    if (items.length) rows.add([...items].reverse());
  });
  return { rows };
}

/** Newest first: by time, then by id (two actions in the same millisecond keep a stable order). */
function newerFirst(a, b) {
  return b.t - a.t || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0);
}

/**
 * The live activity feed in <ol id=listId>, newest on top; returns {reload, merge}. Entries are
 * keyed by their id, so an action that arrives both in a `feed` event and in a REST answer
 * (each with its own time format) shows once, and each is placed by its time, not by arrival.
 */
export function activityFeed(listId = "activity-feed", max = 25, minutes = 30) {
  const list = document.getElementById(listId);
  const shown = new Map(); // key -> {key, id, t, li}

  function keyOf(entry, t) {
    if (entry.id !== null && entry.id !== undefined) return `id:${entry.id}`;
    return `t:${t}|${entry.user_id}|${entry.action}`;
  }

  function itemFor(entry, key, date) {
    const li = document.createElement("li");
    li.dataset.key = key;
    if (entry.id !== null && entry.id !== undefined) li.dataset.id = String(entry.id);
    const what = document.createElement("span");
    what.className = "feed-what";
    const who = document.createElement("strong");
    who.textContent = entry.user_id || "someone";
    const action = document.createElement("span");
    action.className = "feed-action";
    action.textContent = ` ${entry.action || "did something"}`;
    const detail = document.createElement("span");
    detail.className = "muted feed-detail";
    detail.textContent = entry.detail ? ` — ${entry.detail}` : "";
    what.append(who, action, detail);
    const time = document.createElement("time");
    time.className = "muted feed-time";
    if (date) {
      time.dateTime = date.toISOString();
      time.title = fmt.dateTime(date);
      time.textContent = ago(date);
    }
    li.append(what, time);
    return li;
  }

  function showEmpty() {
    if (shown.size) return;
    const li = document.createElement("li");
    li.className = "empty-cell";
    li.textContent = "No activity yet";
    list.replaceChildren(li);
  }

  /** Put `entries` in their places (already shown ones are left alone), keep the newest `max`. */
  function add(entries, flash) {
    if (entries.length && !shown.size) list.replaceChildren();
    for (const entry of entries) {
      const date = toDate(entry.created_at);
      const t = date ? date.getTime() : 0;
      const key = keyOf(entry, t);
      if (shown.has(key)) continue;
      const item = { key, id: Number(entry.id) || 0, t, li: itemFor(entry, key, date) };
      if (flash) item.li.classList.add("flash-new");
      const next = [...shown.values()].filter((other) => newerFirst(item, other) < 0).sort(newerFirst)[0];
      list.insertBefore(item.li, next ? next.li : null);
      shown.set(key, item);
    }
    while (shown.size > max) {
      const last = list.lastElementChild;
      shown.delete(last.dataset.key);
      last.remove();
    }
    showEmpty();
  }

  /** Take in a REST answer's entries: merged, so a feed event that arrived meanwhile stays. */
  function merge(entries) {
    add(entries, false);
    refreshAges();
    // How many REST answers the list has taken in (the browser tests wait on it after ⟳).
    list.dataset.merged = String(Number(list.dataset.merged || 0) + 1);
  }

  async function reload() {
    try {
      const body = await api.get(withQuery("/admin/api/user-activity", { minutes, limit: max }));
      merge(body.recent || []);
      return body;
    } catch (err) {
      showEmpty();
      return null;
    }
  }

  function refreshAges() {
    for (const time of list.querySelectorAll("time[datetime]")) time.textContent = ago(time.dateTime);
  }

  document.addEventListener("live:feed", (event) => {
    const items = (event.detail && event.detail.activities) || [];
    if (items.length) add(items, true);
  });
  // Relative times ("12 s ago") stay true while the page is open.
  setInterval(refreshAges, 10000);
  return { reload, merge };
}
