// Maintenance page: windows with whether they mute now and until when; start/stop manual ones;
// a form whose refusals show the server's reason (a long window asks for confirmation).
import { api, toast } from "./api.js";
import { el, emptyBody } from "./dom.js";
import { fmt } from "./format.js";
import { matcherCell, parseMatchers } from "./matchers.js";

const root = document.getElementById("maintenance-root");
const canEdit = root.dataset.canEdit === "true";
const BASE = "/admin/api/maintenance";

function when(w) {
  if (w.kind === "once") return `${fmt.dateTime(w.starts_at)} – ${fmt.dateTime(w.ends_at)}`;
  if (w.kind === "recurring") {
    const next = w.next_start ? `; next ${fmt.dateTime(w.next_start)}` : "; no further occurrence";
    return `${w.rrule} from ${w.dtstart.replace("T", " ")} for ${w.duration_minutes} min (${w.timezone})${next}`;
  }
  return "manual";
}

function action(w, verb) {
  return el("button", { type: "button", class: "btn btn-small", text: verb === "start" ? "Start" : "Stop", onclick: async () => {
    try {
      await api.post(`${BASE}/${w.id}/${verb}`, {});
      toast(verb === "start" ? "Maintenance started" : "Maintenance stopped", "success");
      load();
    } catch (err) { /* toast shown */ }
  } });
}

async function load() {
  const tbody = document.querySelector("#windows tbody");
  let body;
  try {
    body = await api.get(BASE, { quiet: true });
  } catch (err) {
    emptyBody(tbody, 5, `Could not load maintenance windows: ${err.message}`);
    return;
  }
  if (!body.windows.length) {
    emptyBody(tbody, 5, "No maintenance window.");
    return;
  }
  tbody.replaceChildren(...body.windows.map((w) => el("tr", { "data-window": w.name, "data-active": String(w.active_now) },
    el("td", {}, el("strong", { text: w.name })), el("td", { class: "wrap", text: when(w) }), el("td", {}, matcherCell(w.matchers)),
    el("td", { class: w.active_now ? "muted-tag" : "", text: w.active_now ? `in maintenance${w.active_until ? ` until ${fmt.dateTime(w.active_until)}` : " until stopped"}` : "not active" }),
    el("td", {}, canEdit ? el("div", { class: "row-actions" },
      w.kind === "manual" ? action(w, w.active_now ? "stop" : "start") : null,
      el("button", { type: "button", class: "btn btn-small", text: "Delete", onclick: async () => {
        if (!window.confirm(`Delete the window “${w.name}”?`)) return;
        try {
          await api.del(`${BASE}/${w.id}`);
          load();
        } catch (err) { /* toast shown */ }
      } })) : "—"))));
}

function localIso(value) {
  return value ? new Date(value).toISOString() : null;
}

function build(f, confirm) {
  const body = { name: f.name.value, kind: f.kind.value, matchers: parseMatchers(f.matchers.value), timezone: f.timezone.value || "UTC" };
  if (body.kind === "once") Object.assign(body, { starts_at: localIso(f.starts_at.value), ends_at: localIso(f.ends_at.value) });
  if (body.kind === "recurring") {
    Object.assign(body, { rrule: f.rrule.value, dtstart: f.dtstart.value,
      duration_minutes: f.duration_minutes.value === "" ? null : Number(f.duration_minutes.value) });
  }
  if (confirm) body.confirm = true;
  return body;
}

const form = document.getElementById("window-form");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("window-error");
    error.hidden = true;
    let confirm = false;
    for (;;) {
      try {
        await api.post(BASE, build(form, confirm), { quiet: true });
        break;
      } catch (err) {
        // A long window is accepted only once the admin confirms it.
        if (err.code === "conflict" && !confirm && window.confirm(`${err.message}\n\nMute alerts for that long?`)) {
          confirm = true;
          continue;
        }
        error.textContent = err.message;
        error.hidden = false;
        return;
      }
    }
    form.reset();
    toast("Maintenance window added", "success");
    load();
  });
}

load();
