// Overview: the Services card — how many monitors are up and down, which ones are down (each a
// link to the Services page), kept current by the "monitor" socket event.
import { api } from "./api.js";

const card = document.getElementById("card-services");
const value = card && card.querySelector("[data-field=services]");
const downList = document.getElementById("services-down");

function render(monitors) {
  const down = monitors.filter((m) => m.status === "down");
  const up = monitors.filter((m) => m.status === "up" || m.status === "degraded").length;
  const waiting = monitors.filter((m) => m.status === "pending").length; // no first verdict yet
  value.classList.remove("empty");
  card.dataset.state = "ready";
  card.dataset.up = String(up);
  card.dataset.down = String(down.length);
  card.classList.toggle("is-bad", down.length > 0);
  value.textContent = monitors.length
    ? `${up} up · ${down.length} down${waiting ? ` · ${waiting} waiting for a first check` : ""}`
    : "No monitors";
  downList.replaceChildren();
  if (!down.length) {
    downList.textContent = monitors.length ? "Nothing is down" : "";
    return;
  }
  downList.append("Down: ");
  down.forEach((m, i) => {
    const link = document.createElement("a");
    link.href = "/admin/services";
    link.textContent = m.name;
    link.className = "services-down-link";
    downList.append(...(i ? [", ", link] : [link]));
  });
}

async function load() {
  try {
    render((await api.get("/admin/api/monitors", { quiet: true })).monitors);
  } catch (err) {
    card.dataset.state = "error";
    value.textContent = "—";
    downList.textContent = `Could not load the monitors: ${err.message}`;
  }
}

if (card) {
  document.addEventListener("live:monitor", load);
  document.addEventListener("live:refresh", load);
  // A monitor that changed before the page joined the live room sent its event elsewhere.
  document.addEventListener("live:joined", load);
  load();
}
