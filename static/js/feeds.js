// Live transactions table and live activity feed: filled over REST, then grown by the
// "feed" server event (what was ingested since the last tick) and each live_update's recent list.
import { api, withQuery } from "./api.js";
import { ago, fmt, money, toDate } from "./format.js";
import { liveRows } from "./tables.js";

const TX_COLUMNS = [
  { key: "created_at", label: "Time", format: (v) => fmt.timeSeconds(v) },
  { key: "id", label: "Transaction" },
  { key: "customer_id", label: "Customer" },
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

/** Live transactions table in <table id=tableId>; returns {reload}. */
export function transactionsTable(tableId = "live-transactions", max = 15) {
  const table = document.getElementById(tableId);
  const rows = liveRows(table.tBodies[0], TX_COLUMNS, { idKey: "id", max, empty: "No transactions yet" });
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

function activityKey(item) {
  return `${item.created_at}|${item.user_id}|${item.action}`;
}

/** The live activity feed in <ol id=listId>; returns {reload}. */
export function activityFeed(listId = "activity-feed", max = 25, minutes = 30) {
  const list = document.getElementById(listId);
  const seen = new Map();

  function itemFor(entry) {
    const li = document.createElement("li");
    li.dataset.key = activityKey(entry);
    const who = document.createElement("strong");
    who.textContent = entry.user_id || "someone";
    const action = document.createElement("span");
    action.className = "feed-action";
    action.textContent = ` ${entry.action || "did something"}`;
    const detail = document.createElement("span");
    detail.className = "muted feed-detail";
    detail.textContent = entry.detail ? ` — ${entry.detail}` : "";
    const time = document.createElement("time");
    time.className = "muted feed-time";
    const date = toDate(entry.created_at);
    if (date) {
      time.dateTime = date.toISOString();
      time.title = fmt.dateTime(date);
      time.textContent = ago(date);
    }
    li.append(who, action, detail, time);
    return li;
  }

  function showEmpty() {
    if (seen.size) return;
    const li = document.createElement("li");
    li.className = "empty-cell";
    li.textContent = "No activity yet";
    list.replaceChildren(li);
  }

  function add(entries, flash) {
    if (entries.length && !seen.size) list.replaceChildren();
    // Oldest first so the newest ends on top.
    const sorted = [...entries].sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
    for (const entry of sorted) {
      const key = activityKey(entry);
      if (seen.has(key)) continue;
      const li = itemFor(entry);
      if (flash) li.classList.add("flash-new");
      list.prepend(li);
      seen.set(key, li);
    }
    while (seen.size > max) {
      const last = list.lastElementChild;
      seen.delete(last.dataset.key);
      last.remove();
    }
    showEmpty();
  }

  async function reload() {
    try {
      const body = await api.get(withQuery("/admin/api/user-activity", { minutes, limit: max }));
      seen.clear();
      list.replaceChildren();
      add(body.recent || [], false);
      return body;
    } catch (err) {
      showEmpty();
      return null;
    }
  }

  document.addEventListener("live:feed", (event) => {
    const items = (event.detail && event.detail.activities) || [];
    if (items.length) add(items, true);
  });
  // Relative times ("12 s ago") stay true while the page is open.
  setInterval(() => {
    for (const time of list.querySelectorAll("time[datetime]")) time.textContent = ago(time.dateTime);
  }, 10000);
  return { reload, add };
}
