// The one Socket.IO connection of a page, shared by every script on it.
//
// Pages never touch the socket; they listen on `document` for CustomEvents:
//   "live:update"   detail = the live_update snapshot (also after a REST refresh; detail.source tells)
//   "live:alert"    detail = the alert event
//   "live:status"   detail = the status event ({room, joined})
//   "live:joined"   once, when the page first joined the live room: what changed between its first
//                   REST answers and then was announced to a room it was not in yet, so pages
//                   whose figures move only by events ask once more
//   "live:<name>"   any other server event, e.g. "live:feed", "live:log_entry"
//   "live:refresh"  the page should reload what it fetched over REST (after a reconnect, a gap in
//                   `seq`, or the refresh button); detail = {reason}
//   "live:state"    detail = {state: "connecting" | "live" | "reconnecting" | "offline"}
// `window.panel.live` exposes {state, emit(event, data), refresh()}.
import { api, toast } from "./api.js";
import { checkSession, endSession, sessionEnded } from "./session.js";

const SNAPSHOT_URL = "/admin/api/metrics/live";
// Past this long without a connection the badge says "offline" (still retrying in the background).
const OFFLINE_AFTER_MS = 30000;
const LABELS = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", offline: "offline",
  ended: "signed out" };
const OWN_EVENTS = { live_update: "update", alert: "alert", status: "status" };

let state = "connecting";
let everConnected = false;
let everJoined = false;
let lastSeq = null;
let lostAt = null;
let offlineTimer = null;

function dispatch(name, detail) {
  document.dispatchEvent(new CustomEvent(`live:${name}`, { detail }));
}

function setState(next) {
  if (next === state && document.body.dataset.live === next) return;
  if (state === "ended") return; // only a new page (after logging in again) goes live again
  state = next;
  document.body.dataset.live = next;
  const badge = document.getElementById("conn-badge");
  if (badge) {
    badge.textContent = LABELS[next];
    badge.className = `badge conn conn-${next}`;
    badge.title = { live: "Receiving live updates", ended: "Your session has ended; log in again" }[next]
      || "Live updates paused; the page shows the last data received";
  }
  dispatch("state", { state: next });
}

/** Fetch a fresh snapshot over REST and hand it to the pages as a live:update. */
async function fetchSnapshot(quiet) {
  const snapshot = await api.get(SNAPSHOT_URL, { quiet });
  lastSeq = typeof snapshot.seq === "number" ? snapshot.seq : lastSeq;
  dispatch("update", Object.assign({}, snapshot, { source: "rest" }));
  return snapshot;
}

/** Reload everything the page shows: the live snapshot and each page's REST data. */
async function refresh(reason = "manual") {
  dispatch("refresh", { reason });
  try {
    await fetchSnapshot(reason !== "manual");
  } catch (err) {
    console.warn("snapshot refresh failed:", err.message);
  }
}

function startConnection() {
  if (typeof window.io !== "function") {
    setState("offline");
    toast("The live-update library did not load; the page will not update by itself.", "error");
    return null;
  }
  const socket = window.io({
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 15000,
    randomizationFactor: 0.5,
    timeout: 10000,
  });

  socket.on("connect", () => {
    const wasReconnect = everConnected;
    everConnected = true;
    lostAt = null;
    clearTimeout(offlineTimer);
    setState("live");
    socket.emit("join_admin_room");
    // Whatever happened while we were away is not on screen: fetch it all again.
    if (wasReconnect) refresh("reconnect");
  });

  socket.on("disconnect", (reason) => {
    if (reason === "io client disconnect") {
      setState("offline");
      return;
    }
    markLost();
    // The server ended the connection on purpose (e.g. logout): socket.io does not retry by itself.
    if (reason === "io server disconnect") setTimeout(() => sessionEnded() || socket.connect(), 2000);
  });

  socket.on("connect_error", (err) => {
    markLost();
    // A refusal from the server means this browser is not logged in any more.
    if (!socket.active) {
      console.warn("socket refused:", err && err.message);
      endSession();
    }
  });

  socket.io.on("reconnect_attempt", () => {
    if (state !== "offline") setState("reconnecting");
  });

  socket.onAny((event, payload) => {
    if (event === "live_update" && payload && typeof payload.seq === "number") {
      // A jump in seq means pushes were missed: pages reload their REST data to fill the hole.
      if (lastSeq !== null && payload.seq > lastSeq + 1) dispatch("refresh", { reason: "gap" });
      lastSeq = payload.seq;
    }
    if (event === "error" && payload && payload.code === "unauthorized") {
      endSession();
      return;
    }
    if (event === "error" && payload && payload.message) toast(payload.message, "error");
    const detail = payload && typeof payload === "object" && !Array.isArray(payload)
      ? Object.assign({}, payload, event === "live_update" ? { source: "socket" } : {})
      : payload;
    dispatch(OWN_EVENTS[event] || event, detail);
    if (event === "status" && payload && payload.joined && !everJoined) {
      everJoined = true;
      dispatch("joined", payload);
    }
  });
  return socket;
}

function markLost() {
  if (lostAt === null) lostAt = Date.now();
  if (state !== "offline") setState("reconnecting");
  clearTimeout(offlineTimer);
  offlineTimer = setTimeout(() => {
    if (state === "reconnecting") setState("offline");
  }, Math.max(0, OFFLINE_AFTER_MS - (Date.now() - lostAt)));
}

function init() {
  setState("connecting");
  const socket = startConnection();
  document.addEventListener("live:session-ended", () => {
    clearTimeout(offlineTimer);
    setState("ended");
    if (socket) socket.disconnect(); // no reconnecting with a session that is gone
  });
  const button = document.getElementById("refresh-btn");
  if (button) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      button.classList.add("spinning");
      try {
        // Logged in again meanwhile (another tab)? Then this page starts afresh.
        if (sessionEnded()) {
          if (await checkSession()) window.location.reload();
          return;
        }
        if (socket && !socket.connected) socket.connect();
        await refresh("manual");
      } finally {
        button.disabled = false;
        button.classList.remove("spinning");
      }
    });
  }
  window.addEventListener("offline", () => setState("offline"));
  window.addEventListener("online", () => {
    if (socket && !socket.connected && !sessionEnded()) {
      setState("reconnecting");
      socket.connect();
    }
  });
  window.panel.live = {
    get state() { return state; },
    get connected() { return Boolean(socket && socket.connected); },
    emit: (event, data) => socket && socket.emit(event, data),
    refresh,
  };
}

window.panel = window.panel || {};
init();
