// Settings page: personal API tokens (create, shown once; list; revoke).
import { api, toast } from "./api.js";
import { el, emptyBody } from "./dom.js";
import { fmt } from "./format.js";

const BASE = "/admin/api/tokens";
const form = document.getElementById("token-form");
const error = document.getElementById("token-error");

async function revoke(token) {
  if (!window.confirm(`Revoke the token “${token.name}”? Scripts using it stop working at once.`)) return;
  try {
    await api.del(`${BASE}/${token.id}`);
    toast("Token revoked", "success");
    load();
  } catch (err) { /* toast shown */ }
}

async function load() {
  const tbody = document.querySelector("#tokens tbody");
  let body;
  try {
    body = await api.get(BASE, { quiet: true });
  } catch (err) {
    emptyBody(tbody, 8, `Could not load tokens: ${err.message}`);
    return;
  }
  if (!body.tokens.length) {
    emptyBody(tbody, 8, "No token yet.");
    return;
  }
  tbody.replaceChildren(...body.tokens.map((t) => el("tr", { "data-token-id": t.id, "data-state": t.state },
    el("td", { class: "wrap", text: t.name }), el("td", {}, el("code", { text: `${t.prefix}…` })),
    el("td", { text: t.scope }), el("td", { class: `token-state token-${t.state}`, text: t.state }),
    el("td", { text: fmt.dateTime(t.created_at) }), el("td", { text: fmt.dateTime(t.expires_at) }),
    el("td", { text: t.last_used_at ? `${fmt.dateTime(t.last_used_at)}${t.last_used_ip ? ` from ${t.last_used_ip}` : ""}` : "never" }),
    el("td", {}, t.state === "revoked" ? "—" : el("button", { type: "button", class: "btn btn-small", text: "Revoke", onclick: () => revoke(t) })))));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const days = form.expires_in_days.value === "" ? null : Number(form.expires_in_days.value);
  let body;
  try {
    body = await api.post(BASE, { name: form.name.value, scope: form.scope.value, expires_in_days: days }, { quiet: true });
  } catch (err) {
    // The server's reason, naming the field, next to the form.
    error.textContent = err.message;
    error.hidden = false;
    return;
  }
  document.getElementById("token-secret-value").textContent = body.secret;
  document.getElementById("token-secret").hidden = false;
  form.reset();
  toast("Token created", "success");
  load();
});

load();
