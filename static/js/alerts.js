// Alerts page: open alerts with acknowledge/resolve/snooze (admins), the rules editor, and the
// filterable history. Updates live on the "alert" socket event (as "live:alert" from live.js).
import { channelNames, loadChannels } from "./alert-channels.js";
import { alertExtras, detailRows, fillRuleLabels, labelChips, ruleLabelsBody } from "./alert-labels.js";
import { api, toast, withQuery } from "./api.js";
import { el, emptyBody as emptyRow } from "./dom.js";
import { fmt } from "./format.js";

const BASE = "/admin/api/alerts";
const root = document.getElementById("alerts-root");
const canEdit = root.dataset.canEdit === "true";
const state = { rules: [], metrics: {}, cursor: null, filters: {}, editing: null };

function value(v, unit) {
  if (typeof v !== "number" || !Number.isFinite(v)) return "—";
  const shown = Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(v % 1 === 0 ? 0 : 2);
  return unit && unit !== "count" ? `${shown} ${unit}` : shown;
}

function severity(s) {
  return el("span", { class: `sev sev-${s}`, text: s });
}

function status(alert) {
  const cell = el("span", { class: `st st-${alert.status}`, text: alert.status });
  if (!alert.snoozed) return cell;
  return el("span", {}, cell, el("span", { class: "snoozed-tag", title: `Snoozed until ${fmt.dateTime(alert.snoozed_until)}`,
    text: `snoozed until ${fmt.time(alert.snoozed_until)}` }));
}

function duration(seconds) {
  if (!seconds) return "—";
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

// ---- dialogs -----------------------------------------------------------------------------------

for (const dialog of document.querySelectorAll("dialog")) {
  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-close]")) dialog.close("cancel");
  });
}

/** Open the note dialog; resolves with the note text, or null when cancelled. */
function askNote(title, hint, required) {
  const dialog = document.getElementById("note-dialog");
  const form = document.getElementById("note-form");
  document.getElementById("note-title").textContent = title;
  document.getElementById("note-hint").textContent = hint;
  form.note.value = "";
  form.note.required = required;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "cancel" || dialog.returnValue === ""
      ? null : form.note.value), { once: true });
    form.onsubmit = (event) => {
      event.preventDefault();
      dialog.close("ok");
    };
  });
}

/** Open the snooze dialog; resolves with minutes, or null when cancelled. */
function askMinutes(title) {
  const dialog = document.getElementById("snooze-dialog");
  const form = document.getElementById("snooze-form");
  document.getElementById("snooze-title").textContent = title;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? Number(form.minutes.value) : null), { once: true });
    form.onsubmit = (event) => {
      event.preventDefault();
      dialog.close("ok");
    };
  });
}

// ---- open alerts -------------------------------------------------------------------------------

async function act(path, body, done) {
  try {
    await api.post(path, body);
    toast(done, "success");
    await refreshAll();
  } catch (err) {
    // api.js has shown the server's message already.
  }
}

function alertActions(alert) {
  if (!canEdit) return el("span", { class: "muted", text: "read-only" });
  const box = el("div", { class: "row-actions" });
  if (alert.status === "firing") {
    box.append(el("button", { type: "button", class: "btn btn-small", text: "Acknowledge", onclick: async () => {
      const note = await askNote(`Acknowledge “${alert.title}”`, "Optional: what you are doing about it.", false);
      if (note !== null) act(`${BASE}/${alert.id}/acknowledge`, { note }, "Alert acknowledged");
    } }));
  }
  box.append(el("button", { type: "button", class: "btn btn-small", text: "Resolve", onclick: async () => {
    const note = await askNote(`Resolve “${alert.title}”`, "Required: what fixed it. If the condition still holds, a new alert opens.", true);
    if (note !== null) act(`${BASE}/${alert.id}/resolve`, { note }, "Alert resolved");
  } }));
  box.append(el("button", { type: "button", class: "btn btn-small", text: alert.snoozed ? "Snoozed…" : "Snooze", onclick: async () => {
    const minutes = await askMinutes(`Snooze “${alert.title}”`);
    if (minutes !== null) act(`${BASE}/${alert.id}/snooze`, { minutes }, minutes ? "Alert snoozed" : "Snooze ended");
  } }));
  return box;
}

function detailsButton(alert) {
  return el("button", { type: "button", class: "btn btn-small", text: "Details", onclick: () => showDetails(alert.id) });
}

async function loadOpen() {
  const tbody = document.querySelector("#open-alerts tbody");
  let body;
  try {
    body = await api.get(withQuery(BASE, { status: "active", limit: 200 }), { quiet: true });
  } catch (err) {
    emptyRow(tbody, 9, `Could not load open alerts: ${err.message}`);
    return;
  }
  const c = body.counts;
  document.getElementById("alert-summary").textContent =
    `${c.firing} firing · ${c.acknowledged} acknowledged · ${c.pending} pending · ${c.snoozed} snoozed`;
  if (!body.alerts.length) {
    emptyRow(tbody, 9, "Nothing is open. All clear.");
    return;
  }
  tbody.replaceChildren(...body.alerts.map((a) => el("tr", { "data-alert-id": a.id, "data-status": a.status },
    el("td", {}, severity(a.severity)),
    el("td", { class: "wrap" }, el("strong", { text: a.title }), ...alertExtras(a),
      a.ack_note ? el("div", { class: "muted", text: `Note: ${a.ack_note}` }) : null),
    el("td", {}, status(a), a.acknowledged_by ? el("div", { class: "muted", text: `by ${a.acknowledged_by}` }) : null),
    el("td", { class: "num", text: value(a.value, a.unit) }),
    el("td", { class: "num", text: value(a.worst_value, a.unit) }),
    el("td", { class: "num", text: value(a.threshold, a.unit) }),
    el("td", { text: fmt.dateTime(a.started_at) }),
    el("td", { text: fmt.time(a.last_seen_at) }),
    el("td", {}, el("div", { class: "row-actions" }, alertActions(a), detailsButton(a))))));
}

// ---- rules -------------------------------------------------------------------------------------

function ruleActions(rule) {
  if (!canEdit) return el("span", { class: "muted", text: "read-only" });
  return el("div", { class: "row-actions" },
    el("button", { type: "button", class: "btn btn-small", text: "Edit", onclick: () => openRule(rule) }),
    el("button", { type: "button", class: "btn btn-small", text: rule.enabled ? "Disable" : "Enable", onclick: async () => {
      try {
        await api.put(`${BASE}/rules/${rule.id}`, { enabled: !rule.enabled });
        toast(rule.enabled ? "Rule disabled" : "Rule enabled", "success");
        refreshAll();
      } catch (err) { /* toast shown */ }
    } }),
    el("button", { type: "button", class: "btn btn-small", text: "Snooze", onclick: async () => {
      const minutes = await askMinutes(`Snooze rule “${rule.name}”`);
      if (minutes !== null) act(`${BASE}/rules/${rule.id}/snooze`, { minutes }, minutes ? "Rule snoozed" : "Snooze ended");
    } }),
    rule.builtin ? null : el("button", { type: "button", class: "btn btn-small", text: "Delete", onclick: async () => {
      if (!window.confirm(`Delete the rule “${rule.name}”? Its history stays.`)) return;
      try {
        await api.del(`${BASE}/rules/${rule.id}`);
        toast("Rule deleted", "success");
        refreshAll();
      } catch (err) { /* toast shown */ }
    } }));
}

async function loadRules() {
  const tbody = document.querySelector("#rules tbody");
  let body;
  try {
    body = await api.get(`${BASE}/rules`, { quiet: true });
  } catch (err) {
    emptyRow(tbody, 8, `Could not load rules: ${err.message}`);
    return;
  }
  state.rules = body.rules;
  state.metrics = Object.fromEntries(body.metrics.map((m) => [m.name, m]));
  if (!body.rules.length) emptyRow(tbody, 8, "No rules yet.");
  else {
    tbody.replaceChildren(...body.rules.map((r) => {
      const unit = state.metrics[r.metric] ? state.metrics[r.metric].unit : "";
      const params = Object.entries(r.params || {}).map(([k, v]) => `${k}=${v}`).join(", ");
      return el("tr", { "data-rule-id": r.id },
        el("td", { class: "wrap" }, el("strong", { text: r.name }), r.builtin ? el("span", { class: "muted", text: " (shipped)" }) : null,
          labelChips(r.labels)),
        el("td", { class: "wrap", title: state.metrics[r.metric] ? state.metrics[r.metric].label : "" },
          `${r.metric === "metric" ? r.params.name : r.metric} ${r.operator} ${value(r.threshold, unit)}`, params ? el("div", { class: "muted", text: params }) : null),
        el("td", { class: "num", text: duration(r.for_seconds) }),
        el("td", {}, severity(r.severity)),
        el("td", { text: r.enabled ? "yes" : "no" }),
        el("td", { class: "wrap" }, channelNames(r.channels)),
        el("td", { text: r.snoozed ? `until ${fmt.dateTime(r.snoozed_until)}` : "—" }),
        el("td", {}, ruleActions(r)));
    }));
  }
  const select = document.getElementById("history-rule");
  const current = select.value;
  select.replaceChildren(el("option", { value: "", text: "Any" }),
    ...body.rules.map((r) => el("option", { value: String(r.id), text: r.name })));
  select.value = current;
  const metricSelect = document.getElementById("rule-metric");
  if (!metricSelect.options.length) {
    metricSelect.append(...body.metrics.map((m) => el("option", { value: m.name, text: m.unit ? `${m.name} (${m.unit})` : m.name })));
  }
}

function renderParams(metric, values = {}) {
  const box = document.getElementById("rule-params");
  const info = state.metrics[metric];
  document.getElementById("rule-metric-hint").textContent = info ? info.label : "";
  // Rules on a catalogue metric also name it, its label matchers and a reducer (text).
  const texts = (info ? info.text_params || [] : []).map((name) => el("label", {},
    name === "match" ? "label matchers (queue=\"mail\")" : name,
    el("input", { type: "text", name: `text:${name}`, value: values[name] !== undefined ? values[name] : "",
      placeholder: name === "reducer" ? "last, avg, min, max, sum, count or rate"
        : name === "no_data" ? "keep (default) or ok" : "" })));
  box.replaceChildren(...texts, ...Object.entries(info ? info.params : {}).map(([name, spec]) => el("label", {},
    name.replace(/_/g, " "),
    el("input", { type: "number", name: `param:${name}`, min: spec.min, max: spec.max, step: 1,
      value: values[name] !== undefined ? values[name] : spec.default }))));
}

function openRule(rule) {
  const form = document.getElementById("rule-form");
  state.editing = rule;
  document.getElementById("rule-title").textContent = rule ? `Edit “${rule.name}”` : "New rule";
  document.getElementById("rule-error").hidden = true;
  form.name.value = rule ? rule.name : "";
  form.metric.value = rule ? rule.metric : "metric";
  form.operator.value = rule ? rule.operator : ">";
  form.threshold.value = rule ? rule.threshold : "";
  form.for_seconds.value = rule ? rule.for_seconds : 0;
  form.severity.value = rule ? rule.severity : "warning";
  form.enabled.checked = rule ? rule.enabled : true;
  for (const box of form.querySelectorAll('input[name="channel"]')) {
    box.checked = rule ? rule.channels.includes(box.value) : true;
  }
  fillRuleLabels(form, rule);
  renderParams(form.metric.value, rule ? rule.params : {});
  document.getElementById("rule-dialog").showModal();
}

function ruleBody(form) {
  const params = {};
  for (const input of form.querySelectorAll('input[name^="param:"]')) params[input.name.slice(6)] = Number(input.value);
  for (const input of form.querySelectorAll('input[name^="text:"]')) {
    if (input.value !== "") params[input.name.slice(5)] = input.value;
  }
  return {
    name: form.name.value, metric: form.metric.value, operator: form.operator.value,
    threshold: form.threshold.value === "" ? null : Number(form.threshold.value),
    for_seconds: Number(form.for_seconds.value || 0), severity: form.severity.value, enabled: form.enabled.checked,
    channels: [...form.querySelectorAll('input[name="channel"]:checked')].map((b) => b.value), params,
    ...ruleLabelsBody(form),
  };
}

if (canEdit) {
  const form = document.getElementById("rule-form");
  document.getElementById("rule-new").addEventListener("click", () => openRule(null));
  form.metric.addEventListener("change", () => renderParams(form.metric.value));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("rule-error");
    const rule = state.editing;
    try {
      if (rule) await api.put(`${BASE}/rules/${rule.id}`, ruleBody(form), { quiet: true });
      else await api.post(`${BASE}/rules`, ruleBody(form), { quiet: true });
    } catch (err) {
      // Keep the dialog open with the server's reason, so the admin can fix the field.
      error.textContent = err.message;
      error.hidden = false;
      return;
    }
    document.getElementById("rule-dialog").close("ok");
    toast(rule ? "Rule saved" : "Rule created", "success");
    refreshAll();
  });
}

// ---- history -----------------------------------------------------------------------------------

function localToIso(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function handledBy(a) {
  if (a.status !== "resolved") return a.acknowledged_by ? `ack: ${a.acknowledged_by}` : "—";
  if (a.auto_resolved) return a.resolve_note ? `automatic (${a.resolve_note})` : "automatic";
  return `${a.resolved_by}: ${a.resolve_note || ""}`;
}

async function loadHistory(reset = true) {
  const tbody = document.querySelector("#history tbody");
  const more = document.getElementById("history-more");
  if (reset) state.cursor = null;
  let body;
  try {
    body = await api.get(withQuery(BASE, { ...state.filters, cursor: state.cursor, limit: 50 }), { quiet: !reset });
  } catch (err) {
    if (reset) emptyRow(tbody, 8, `Could not load the history: ${err.message}`);
    return;
  }
  const rows = body.alerts.map((a) => el("tr", { "data-alert-id": a.id },
    el("td", {}, severity(a.severity)),
    el("td", { class: "wrap", text: a.title }),
    el("td", {}, status(a)),
    el("td", { class: "num", text: value(a.worst_value, a.unit) }),
    el("td", { text: fmt.dateTime(a.started_at) }),
    el("td", { text: a.resolved_at ? fmt.dateTime(a.resolved_at) : "—" }),
    el("td", { class: "wrap", text: handledBy(a) }),
    el("td", {}, detailsButton(a))));
  if (reset) {
    if (rows.length) tbody.replaceChildren(...rows);
    else emptyRow(tbody, 8, "No alerts match these filters.");
  } else tbody.append(...rows);
  state.cursor = body.next_cursor;
  more.hidden = body.next_cursor === null;
}

document.getElementById("history-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  state.filters = { status: form.status.value, severity: form.severity.value, rule: form.rule.value,
    since: localToIso(form.since.value), until: localToIso(form.until.value) };
  loadHistory(true);
});
document.getElementById("history-more").addEventListener("click", () => loadHistory(false));

async function showDetails(id) {
  let body;
  try {
    body = await api.get(`${BASE}/${id}`);
  } catch (err) {
    return;
  }
  const a = body.alert;
  document.getElementById("detail-title").textContent = a.title;
  const fields = [["Rule", a.rule], ["Metric", a.metric], ["Severity", a.severity], ["Status", a.status],
    ["Value", value(a.value, a.unit)], ["Worst", value(a.worst_value, a.unit)], ["Threshold", value(a.threshold, a.unit)],
    ["Started", fmt.dateTime(a.started_at)], ["Fired", fmt.dateTime(a.fired_at)], ["Last seen", fmt.dateTime(a.last_seen_at)],
    ["Acknowledged", a.acknowledged_at ? `${fmt.dateTime(a.acknowledged_at)} by ${a.acknowledged_by}` : "—"],
    ["Ack note", a.ack_note || "—"],
    ["Resolved", a.resolved_at ? `${fmt.dateTime(a.resolved_at)} ${a.auto_resolved ? "(automatic)" : `by ${a.resolved_by}`}` : "—"],
    ["Resolve note", a.resolve_note || "—"], ["Snoozed until", a.snoozed ? fmt.dateTime(a.snoozed_until) : "—"]];
  document.getElementById("detail-list").replaceChildren(...fields.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]),
    ...detailRows(a).flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]));
  const tbody = document.querySelector("#detail-notifications tbody");
  if (!a.notifications.length) emptyRow(tbody, 6, "No notification was sent for this alert.");
  else {
    tbody.replaceChildren(...a.notifications.map((n) => el("tr", {},
      el("td", { text: n.contact_point || n.channel }), el("td", { text: n.event }), el("td", { text: n.status }),
      el("td", { class: "num", text: String(n.attempts) }), el("td", { text: n.sent_at ? fmt.dateTime(n.sent_at) : "—" }),
      el("td", { class: "wrap", text: n.last_error || "—" }))));
  }
  document.getElementById("detail-dialog").showModal();
}

// ---- live --------------------------------------------------------------------------------------

async function refreshAll() {
  // The channels first: the rules table marks the channels that cannot deliver.
  await loadChannels(canEdit);
  await Promise.all([loadOpen(), loadRules(), loadHistory(true)]);
}

/** The open alerts and the newest history page: what an alert event changes. */
const reloadAlerts = () => Promise.all([loadOpen(), loadHistory(true)]);

let pending = null;
document.addEventListener("live:alert", (event) => {
  const detail = event.detail || {};
  if (detail.event === "fired" && detail.alert) toast(`${detail.alert.severity.toUpperCase()}: ${detail.alert.title}`, "warning");
  // Several alerts often change in one tick: reload once for the lot.
  clearTimeout(pending);
  pending = setTimeout(async () => {
    await reloadAlerts();
    if (detail.alert) {
      const row = document.querySelector(`#open-alerts tr[data-alert-id="${detail.alert.id}"]`);
      if (row) row.classList.add("flash-row");
    }
  }, 250);
});
document.addEventListener("live:refresh", refreshAll);
// An alert that changed before the page joined the live room sent its event elsewhere.
document.addEventListener("live:joined", reloadAlerts);

refreshAll();
// A link to one alert (search, a shared URL): ?alert=<id> opens its details.
const linked = Number(new URLSearchParams(location.search).get("alert"));
if (Number.isInteger(linked) && linked > 0) showDetails(linked);
