// Logs page: filters, older pages by cursor, and a live tail over the shared socket.
// Oldest at the top, newest at the bottom, like a terminal: the view follows new entries
// while it is scrolled to the bottom and stays put once the user scrolls up.
// Every log text goes in with textContent, so HTML inside a log line stays inert text.
import { api, formFilters, toast, withQuery } from "./api.js";
import { localInputValue, onPopState, readState, writeState } from "./url-state.js";
import { fmt, plural } from "./format.js";

const PAGE = 200;
const MAX_ROWS = 3000; // while following, the oldest rows leave the page beyond this
const STICK_PX = 40;

const form = document.getElementById("log-filters");
const view = document.getElementById("log-view");
const list = document.getElementById("log-list");
const empty = document.getElementById("log-empty");
const olderBtn = document.getElementById("log-older");
const jumpBtn = document.getElementById("log-jump");
const tailBtn = document.getElementById("live-tail");
const countEl = document.getElementById("log-count");
const meta = document.getElementById("log-meta");

let filters = {};
let cursor = null;
let seen = new Set();
let tailing = false;
let loading = 0;

function readFilters() {
  return formFilters(form, ["level", "service", "q"]);
}

function atBottom() {
  return view.scrollHeight - view.scrollTop - view.clientHeight < STICK_PX;
}

function scrollToNewest() {
  view.scrollTop = view.scrollHeight;
  jumpBtn.hidden = true;
}

function row(entry, isNew) {
  const li = document.createElement("li");
  li.className = isNew ? "log-row is-new" : "log-row";
  li.dataset.id = entry.id;
  const time = document.createElement("time");
  time.className = "log-time";
  time.dateTime = entry.created_at;
  time.textContent = fmt.dateTime(entry.created_at);
  const level = document.createElement("span");
  level.className = `lvl lvl-${String(entry.level).toUpperCase()}`;
  level.textContent = entry.level;
  const service = document.createElement("span");
  service.className = "log-service";
  service.textContent = entry.service;
  service.title = entry.logger ? `${entry.service} · ${entry.logger}` : entry.service;
  const msg = document.createElement("pre");
  msg.className = "log-msg";
  msg.textContent = entry.message;
  li.append(time, level, service, msg);
  return li;
}

function updateCount(handler) {
  countEl.textContent = `${plural(list.children.length, "entry", "entries")} shown${cursor ? "; older ones available" : ""}`;
  empty.hidden = list.children.length > 0;
  empty.textContent = "No entries match these filters.";
  if (handler && handler.dropped) {
    const dropped = plural(handler.dropped, "of the panel's own records was", "of the panel's own records were");
    meta.textContent = `${dropped} dropped because its log queue was full.`;
  }
}

async function load(older = false) {
  const token = ++loading;
  const params = Object.assign({ limit: PAGE }, filters, older && cursor ? { cursor } : {});
  olderBtn.disabled = true;
  let data;
  try {
    data = await api.get(withQuery("/admin/api/logs", params));
  } catch (err) {
    empty.textContent = "Could not load the logs.";
    return;
  } finally {
    olderBtn.disabled = false;
  }
  if (token !== loading) return; // a newer filter won
  if (!older) {
    list.replaceChildren();
    seen = new Set();
  }
  const before = view.scrollHeight - view.scrollTop;
  const frag = document.createDocumentFragment();
  // The API sends newest first; the view shows oldest first.
  for (const entry of data.logs.slice().reverse()) {
    if (seen.has(entry.id)) continue;
    seen.add(entry.id);
    frag.append(row(entry, false));
  }
  list.prepend(frag);
  cursor = data.next_cursor;
  olderBtn.hidden = !cursor;
  updateCount(data.handler);
  if (older) view.scrollTop = view.scrollHeight - before; // keep the rows the user was reading in place
  else scrollToNewest();
}

function append(entry) {
  if (seen.has(entry.id)) return;
  if (filters.until) return; // a closed time range gets nothing new
  const follow = atBottom();
  seen.add(entry.id);
  list.append(row(entry, true));
  if (follow) {
    if (list.children.length > MAX_ROWS) {
      while (list.children.length > MAX_ROWS) {
        seen.delete(Number(list.firstElementChild.dataset.id));
        list.firstElementChild.remove();
      }
      // The trimmed rows are older than the oldest one shown: page on from there.
      cursor = cursorFor(list.firstElementChild);
      olderBtn.hidden = false;
    }
    scrollToNewest();
  } else {
    jumpBtn.hidden = false;
  }
  updateCount();
}

/** The server's cursor for "entries older than this row" (base64url of "created_at|id"). */
function cursorFor(li) {
  const raw = `${li.querySelector("time").dateTime}|${li.dataset.id}`;
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function subscribe() {
  const live = window.panel && window.panel.live;
  if (!live || !live.connected) return false;
  const { level, service, q } = filters;
  live.emit("logs_subscribe", { level, service, q });
  return true;
}

function setTail(on) {
  tailing = on;
  tailBtn.setAttribute("aria-pressed", String(on));
  tailBtn.textContent = `Live tail: ${on ? "on" : "off"}`;
  const live = window.panel && window.panel.live;
  if (on) {
    if (!subscribe()) toast("Live tail starts once the live connection is up.", "warning");
    scrollToNewest();
  } else if (live) {
    live.emit("logs_unsubscribe");
  }
}

const STATE_KEYS = ["level", "service", "q", "since", "until"];

/** The filter form from the address (a pasted link, back/forward). */
function fillFromUrl() {
  const state = readState(STATE_KEYS);
  for (const key of ["level", "service", "q"]) form.elements[key].value = state[key] || "";
  for (const key of ["since", "until"]) form.elements[key].value = state[key] ? localInputValue(state[key]) : "";
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  filters = readFilters();
  writeState(Object.fromEntries(STATE_KEYS.map((k) => [k, filters[k]])), { push: true });
  cursor = null;
  load(false);
  if (tailing) subscribe();
});
onPopState(() => {
  fillFromUrl();
  filters = readFilters();
  cursor = null;
  load(false);
});
form.addEventListener("reset", () => {
  setTimeout(() => form.requestSubmit(), 0);
});
olderBtn.addEventListener("click", () => load(true));
jumpBtn.addEventListener("click", scrollToNewest);
view.addEventListener("scroll", () => {
  if (atBottom()) jumpBtn.hidden = true;
});
tailBtn.addEventListener("click", () => setTail(!tailing));

document.addEventListener("live:log_entry", (event) => {
  if (tailing && event.detail) append(event.detail);
});
document.addEventListener("live:state", (event) => {
  // A new connection has a new id: subscribe again, and fill the hole with a reload.
  if (event.detail.state === "live" && tailing) {
    subscribe();
    load(false);
  }
});
document.addEventListener("live:logs_status", (event) => {
  if (tailing && event.detail && event.detail.subscribed === false) setTail(false);
});

fillFromUrl();
filters = readFilters();
load(false);
