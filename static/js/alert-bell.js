// The bell in the top bar of every page: how many alerts are firing (snoozed ones not counted),
// kept current by the "alert" socket event that static/js/live.js re-dispatches as "live:alert".
import { api } from "./api.js";

const bell = document.getElementById("alert-bell");
const COUNT_URL = "/admin/api/alerts/count";

function show(firing) {
  if (!bell || typeof firing !== "number") return;
  const badge = bell.querySelector(".alert-bell-count");
  const before = badge.textContent;
  badge.textContent = String(firing);
  bell.classList.toggle("firing", firing > 0);
  const label = `Alerts firing now: ${firing}`;
  bell.setAttribute("aria-label", label);
  bell.title = label;
  if (before !== String(firing) && before !== "–") {
    bell.classList.remove("bump");
    void bell.offsetWidth; // restart the animation
    bell.classList.add("bump");
  }
}

async function load() {
  try {
    const counts = await api.get(COUNT_URL, { quiet: true });
    show(counts.firing);
  } catch (err) {
    console.warn("alert count unavailable:", err.message);
  }
}

if (bell) {
  document.addEventListener("live:alert", (event) => {
    const detail = event.detail || {};
    if (typeof detail.firing === "number") show(detail.firing);
    else load();
  });
  // After a reconnect or a gap, events may have been missed: ask again.
  document.addEventListener("live:refresh", load);
  // An alert that changed before the page joined the live room sent its event elsewhere.
  document.addEventListener("live:joined", load);
  load();
}
