// Notifications page: contact points (with a test button and the last delivery), the policy tree,
// a "where would it go" preview (notifications-preview.js) and the inhibition rules. Forms show
// the server's reason on refusal.
// Policies and inhibition rules are edited in the form that adds them ("Edit" fills it, saving
// sends PUT); policies move up and down among their siblings (their positions are rewritten).
import { api, toast } from "./api.js";
import { el, emptyBody } from "./dom.js";
import { fmt } from "./format.js";
import { formatMatchers, matcherCell, parseList, parseMatchers } from "./matchers.js";

const root = document.getElementById("routing-root");
const canEdit = root.dataset.canEdit === "true";
const API = "/admin/api";

function delivery(d) {
  if (!d) return "never";
  const when = fmt.dateTime(d.sent_at || d.created_at);
  return d.status === "sent" ? `sent ${when}` : `${d.status} ${when}${d.error ? `: ${d.error}` : ""}`;
}

function removeButton(label, path, done) {
  return el("button", { type: "button", class: "btn btn-small", text: "Delete", onclick: async () => {
    if (!window.confirm(`Delete ${label}?`)) return;
    try {
      await api.del(path);
      toast(`${label} deleted`, "success");
      done();
    } catch (err) { /* toast shown */ }
  } });
}

// The outcome of each test sent from this page, kept across the table's reloads.
const testResults = {};

function testButton(point, cell) {
  return el("button", { type: "button", class: "btn btn-small", text: "Send test", onclick: async () => {
    const path = `${API}/contact-points/${point.id}/test`;
    cell.textContent = "Sending…";
    try {
      const r = await api.post(path, {}, { quiet: true });
      testResults[point.name] = r.delivered ? "Test delivered" : `Test failed: ${r.error}`;
    } catch (err) {
      testResults[point.name] = `Test failed: ${err.message}`;
    }
    await loadPoints();
  } });
}

async function loadPoints() {
  const tbody = document.querySelector("#points tbody");
  let body;
  try {
    body = await api.get(`${API}/contact-points`, { quiet: true });
  } catch (err) {
    emptyBody(tbody, 5, `Could not load contact points: ${err.message}`);
    return;
  }
  tbody.replaceChildren(...body.contact_points.map((p) => {
    const result = el("div", { class: "chan-result muted", role: "status", text: testResults[p.name] || "" });
    const actions = canEdit ? el("div", { class: "row-actions" }, p.configured ? testButton(p, result) : null,
      editButton("point-form", p, fillPoint), p.builtin && p.source === "page" ? followButton(p) : null,
      p.builtin ? null : removeButton(`contact point “${p.name}”`, `${API}/contact-points/${p.id}`, loadPoints)) : "—";
    // The two defaults follow the settings until edited here; then what was saved here wins.
    const origin = p.builtin ? (p.source === "settings" ? " (from the settings)" : " (default, edited here)") : "";
    return el("tr", { "data-point": p.name },
      el("td", {}, el("strong", { text: p.name }), origin ? el("span", { class: "muted", text: origin }) : null),
      el("td", { text: p.kind }),
      el("td", { class: "wrap", text: p.configured ? p.target || "—" : `not configured: ${p.problem}` }),
      el("td", { class: "wrap" }, delivery(p.last_delivery), p.last_test
        ? el("div", { class: "muted", text: `last test ${p.last_test.delivered ? "delivered" : `failed: ${p.last_test.error}`} ${fmt.dateTime(p.last_test.at)}` })
        : null),
      el("td", {}, actions, result));
  }));
}

// A default contact point edited here goes back to the settings' URL or recipients.
function followButton(point) {
  return el("button", { type: "button", class: "btn btn-small", text: "Follow the settings", onclick: async () => {
    try {
      await api.put(`${API}/contact-points/${point.id}`, { source: "settings" });
      toast(`${point.name} follows the settings again`, "success");
      loadPoints();
    } catch (err) { /* toast shown */ }
  } });
}

// The row each form is editing (null: the form adds a new one).
const editing = { "point-form": null, "policy-form": null, "inhibition-form": null };

function startEdit(formId, item, fill) {
  const form = document.getElementById(formId);
  editing[formId] = item.id;
  fill(form, item);
  form.querySelector("button[type=submit]").textContent = "Save changes";
  form.querySelector(".cancel-edit").hidden = false;
  form.dataset.editing = String(item.id);
  form.querySelector("input[name=name]").focus();
}

function endEdit(form) {
  editing[form.id] = null;
  delete form.dataset.editing;
  form.reset();
  for (const input of form.querySelectorAll("input, select")) {
    input.readOnly = false;
    input.disabled = false;
  }
  form.querySelector("button[type=submit]").textContent = form.dataset.addLabel;
  form.querySelector(".cancel-edit").hidden = true;
}

const matcherText = (matchers) => (matchers.length ? formatMatchers(matchers) : "");
const numberText = (v) => (v === null || v === undefined ? "" : String(v));

function fillPolicy(f, p) {
  f.name.value = p.name || "";
  f.parent_id.value = p.parent_id === null ? "" : String(p.parent_id);
  f.matchers.value = matcherText(p.matchers);
  f.contact_points.value = p.contact_points.join(", ");
  f.continue.checked = p.continue;
  f.group_by.value = p.group_by.join(", ");
  for (const k of ["group_wait", "group_interval", "repeat_interval"]) f[k].value = numberText(p[k]);
}

// A webhook's full URL is never sent back (its path is often the secret): left empty, it is kept.
function fillPoint(f, p) {
  f.name.value = p.name;
  f.name.readOnly = p.builtin;  // rules send to the two defaults by name
  f.kind.value = p.kind;
  f.kind.disabled = p.builtin;
  f.target.value = p.kind === "email" ? p.addresses.join(", ") : "";
  f.target.placeholder = p.kind === "webhook" ? "the full URL again, or empty to keep it" : "a@x.com, b@x.com";
}

function fillInhibition(f, r) {
  f.name.value = r.name || "";
  f.source.value = matcherText(r.source_matchers);
  f.target.value = matcherText(r.target_matchers);
  f.equal.value = r.equal.join(", ");
}

function editButton(formId, item, fill) {
  return el("button", { type: "button", class: "btn btn-small", text: "Edit", onclick: () => startEdit(formId, item, fill) });
}

/** Move policy `p` one place among `siblings` (sorted), writing every sibling's new position. */
function moveButton(siblings, index, step) {
  const target = index + step;
  return el("button", { type: "button", class: "btn btn-small", text: step < 0 ? "Up" : "Down",
    "aria-label": `Move ${siblings[index].name || `#${siblings[index].id}`} ${step < 0 ? "up" : "down"}`,
    disabled: target < 0 || target >= siblings.length ? "" : null,
    onclick: async () => {
      const order = siblings.slice();
      [order[index], order[target]] = [order[target], order[index]];
      try {
        for (const [position, p] of order.entries()) {
          if (p.position !== position) await api.put(`${API}/notification-policies/${p.id}`, { position });
        }
        toast("Order saved", "success");
      } catch (err) { /* toast shown */ }
      loadPolicies();
    } });
}

function seconds(v) {
  return v === null || v === undefined ? "inherit" : String(v);
}

async function loadPolicies() {
  const tbody = document.querySelector("#policies tbody");
  let body;
  try {
    body = await api.get(`${API}/notification-policies`, { quiet: true });
  } catch (err) {
    emptyBody(tbody, 7, `Could not load policies: ${err.message}`);
    return;
  }
  const byParent = {};
  for (const p of body.policies) (byParent[p.parent_id ?? "root"] ||= []).push(p);
  const rows = [el("tr", { "data-policy": "default" }, el("td", {}, el("strong", { text: "Default policy" })),
    el("td", { text: "every alert" }), el("td", { text: body.default.contact_points }), el("td", { text: "—" }),
    el("td", { text: "each alert alone" }),
    el("td", { text: `${body.default.group_wait} / ${body.default.group_interval} / ${body.default.repeat_interval || "never"}` }),
    el("td", { text: "—" }))];
  const walk = (parent, depth) => {
    const siblings = (byParent[parent] || []).sort((a, b) => a.position - b.position || a.id - b.id);
    for (const [index, p] of siblings.entries()) {
      rows.push(el("tr", { "data-policy": p.name || String(p.id) },
        el("td", { class: `policy-depth-${Math.min(depth, 4)}` }, `${"↳ ".repeat(depth ? 1 : 0)}${p.name || `#${p.id}`}`),
        el("td", {}, matcherCell(p.matchers)), el("td", { text: p.contact_points.join(", ") || "inherited" }),
        el("td", { text: p.continue ? "yes" : "no" }), el("td", { text: p.group_by.join(", ") || "inherited" }),
        el("td", { text: `${seconds(p.group_wait)} / ${seconds(p.group_interval)} / ${seconds(p.repeat_interval)}` }),
        el("td", {}, canEdit ? el("div", { class: "row-actions" }, editButton("policy-form", p, fillPolicy),
          moveButton(siblings, index, -1), moveButton(siblings, index, 1),
          removeButton(`policy “${p.name || p.id}” and the ones below it`, `${API}/notification-policies/${p.id}`, loadPolicies)) : "—")));
      walk(p.id, depth + 1);
    }
  };
  walk("root", 0);
  tbody.replaceChildren(...rows);
  const parent = document.querySelector('#policy-form select[name="parent_id"]');
  if (parent) {
    parent.replaceChildren(el("option", { value: "", text: "the default policy" }),
      ...body.policies.map((p) => el("option", { value: String(p.id), text: p.name || `#${p.id}` })));
  }
}

async function loadInhibitions() {
  const tbody = document.querySelector("#inhibitions tbody");
  let body;
  try {
    body = await api.get(`${API}/inhibition-rules`, { quiet: true });
  } catch (err) {
    emptyBody(tbody, 5, `Could not load inhibition rules: ${err.message}`);
    return;
  }
  if (!body.rules.length) {
    emptyBody(tbody, 5, "No inhibition rule.");
    return;
  }
  tbody.replaceChildren(...body.rules.map((r) => el("tr", { "data-rule": r.name || String(r.id) },
    el("td", { text: r.name || `#${r.id}` }), el("td", {}, matcherCell(r.source_matchers)), el("td", {}, matcherCell(r.target_matchers)),
    el("td", { text: r.equal.join(", ") || "—" }),
    el("td", {}, canEdit ? el("div", { class: "row-actions" }, editButton("inhibition-form", r, fillInhibition),
      removeButton(`inhibition rule “${r.name || r.id}”`, `${API}/inhibition-rules/${r.id}`, loadInhibitions)) : "—"))));
}

/** Submit a form's body (built by `build`, which may throw) and show the server's reason on refusal. */
function handle(formId, errorId, build, path, done) {
  const form = document.getElementById(formId);
  if (!form) return;
  const error = document.getElementById(errorId);
  const submit = form.querySelector("button[type=submit]");
  form.dataset.addLabel = submit.textContent;
  if (form.id in editing) {
    const cancel = el("button", { type: "button", class: "btn btn-small cancel-edit", text: "Cancel", hidden: "",
      onclick: () => { error.hidden = true; endEdit(form); } });
    submit.after(cancel);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const id = editing[form.id];
    try {
      if (id) await api.put(`${path}/${id}`, build(form), { quiet: true });
      else await api.post(path, build(form), { quiet: true });
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      return;
    }
    if (form.id in editing) endEdit(form);
    else form.reset();
    toast("Saved", "success");
    done();
  });
}

const optionalInt = (input) => (input.value === "" ? null : Number(input.value));

handle("point-form", "point-error", (f) => {
  const body = { name: f.name.value, kind: f.kind.value };
  if (f.kind.value === "email") body.addresses = parseList(f.target.value);
  else if (f.target.value || !editing["point-form"]) body.url = f.target.value;
  return body;
}, `${API}/contact-points`, loadPoints);

handle("policy-form", "policy-error", (f) => ({
  name: f.name.value, parent_id: f.parent_id.value ? Number(f.parent_id.value) : null,
  matchers: parseMatchers(f.matchers.value), contact_points: parseList(f.contact_points.value),
  continue: f.continue.checked, group_by: parseList(f.group_by.value), group_wait: optionalInt(f.group_wait),
  group_interval: optionalInt(f.group_interval), repeat_interval: optionalInt(f.repeat_interval),
}), `${API}/notification-policies`, loadPolicies);

handle("inhibition-form", "inhibition-error", (f) => ({
  name: f.name.value, source_matchers: parseMatchers(f.source.value, "Source"),
  target_matchers: parseMatchers(f.target.value, "Target"), equal: parseList(f.equal.value),
}), `${API}/inhibition-rules`, loadInhibitions);

loadPoints();
loadPolicies();
loadInhibitions();

