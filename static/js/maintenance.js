// Maintenance page: windows with whether they mute now and until when; start/stop manual ones;
// a form whose refusals show the server's reason (a long window asks for confirmation). Which
// windows the table shows is chosen in a filter form kept in the address (maintenance-view.js).
import { api, toast } from "./api.js";
import { el, emptyBody } from "./dom.js";
import { fmt } from "./format.js";
import { filtering, shown, watchFilters } from "./maintenance-view.js";
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

// Sends the request; a 409 asking for confirmation (a window that mutes for long or without an
// end) is shown as a dialog and, once the admin agrees, sent again with "confirm": true.
async function withConfirm(send) {
  try {
    return await send(false);
  } catch (err) {
    if (err.code !== "conflict" || (err.body && err.body.error && err.body.error.field) !== "confirm") throw err;
    if (!window.confirm(`${err.message}\n\nMute alerts for that long?`)) return null;
    return send(true);
  }
}

function action(w, verb) {
  return el("button", { type: "button", class: "btn btn-small", text: verb === "start" ? "Start" : "Stop", onclick: async () => {
    try {
      const done = await withConfirm((confirm) => api.post(`${BASE}/${w.id}/${verb}`, confirm ? { confirm: true } : {}, { quiet: true }));
      if (!done) return;
      toast(verb === "start" ? "Maintenance started" : "Maintenance stopped", "success");
      load();
    } catch (err) {
      toast(err.message, "error");
    }
  } });
}

function coveredRows(covered) {
  const until = (c) => (c.until ? fmt.dateTime(c.until) : "until stopped");
  const rows = [
    ...covered.monitors.map((m) => ["monitor", m.name, m, `monitor-${m.id}`]),
    ...covered.alerts.map((a) => ["alert (muted)", a.title, a, `alert-${a.id}`]),
  ];
  return rows.map(([what, name, c, key]) => el("tr", { "data-covered": key },
    el("td", { text: what }), el("td", { class: "wrap", text: name }),
    el("td", { text: `${c.window}${c.mode === "suppress" ? " (no new alerts)" : ""}` }), el("td", { text: until(c) })));
}

let listed = null; // the last answer, redrawn as the filters change

async function load() {
  const tbody = document.querySelector("#windows tbody");
  let body;
  try {
    body = await api.get(BASE, { quiet: true });
  } catch (err) {
    emptyBody(tbody, 5, `Could not load maintenance windows: ${err.message}`);
    return;
  }
  listed = body;
  draw();
}

function draw() {
  if (!listed) return;
  const body = listed;
  const tbody = document.querySelector("#windows tbody");
  const covered = document.querySelector("#covered tbody");
  const rows = coveredRows(body.in_maintenance);
  if (rows.length) covered.replaceChildren(...rows);
  else emptyBody(covered, 4, "Nothing is in maintenance now.");
  const windows = body.windows.filter(shown);
  if (!windows.length) {
    emptyBody(tbody, 5, body.windows.length && filtering() ? "No window matches these filters." : "No maintenance window.");
    return;
  }
  tbody.replaceChildren(...windows.map((w) => el("tr", { "data-window": w.name, "data-active": String(w.active_now) },
    el("td", {}, el("strong", { text: w.name }), w.mode === "suppress" ? el("div", { class: "muted", text: "does not open alerts" }) : null),
    el("td", { class: "wrap", text: when(w) }),
    el("td", {}, matcherCell(w.matchers), w.monitor_ids.length ? el("div", { class: "muted", text: `monitors: ${w.monitor_ids.map((id) => monitorNames.get(id) || `#${id}`).join(", ")}` }) : null),
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

const monitorNames = new Map();

async function loadMonitors(select) {
  try {
    const body = await api.get("/admin/api/monitors", { quiet: true });
    for (const m of body.monitors) monitorNames.set(m.id, m.name);
    if (select) select.replaceChildren(...body.monitors.map((m) => el("option", { value: String(m.id), text: m.name })));
  } catch (err) { /* the window list still shows ids */ }
}

function build(f, confirm) {
  const body = { name: f.name.value, kind: f.kind.value, matchers: parseMatchers(f.matchers.value), timezone: f.timezone.value || "UTC",
    monitor_ids: [...f.monitor_ids.selectedOptions].map((o) => Number(o.value)), mode: f.mode.value };
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
    try {
      // A long window is accepted only once the admin confirms it.
      if (!await withConfirm((confirm) => api.post(BASE, build(form, confirm), { quiet: true }))) return;
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      return;
    }
    form.reset();
    toast("Maintenance window added", "success");
    load();
  });
}

watchFilters(draw);
loadMonitors(form ? form.monitor_ids : null).then(load);
