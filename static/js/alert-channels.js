// Alerts page, notification channels: which ones can deliver (and where), how the last alert
// notification through each went, a warning when none is configured (alerts then reach
// nobody), and a "Send test" button per channel for admins.
import { api, toast } from "./api.js";
import { el, emptyBody } from "./dom.js";
import { fmt } from "./format.js";

const URL = "/admin/api/alerts/channels";
const states = new Map(); // name -> the channel as the API describes it

function lastDelivery(last) {
  if (!last) return el("span", { class: "muted", text: "none yet" });
  const error = last.error ? el("div", { class: "muted chan-error", text: last.error }) : null;
  if (last.status === "sent") {
    return el("span", {}, el("span", { class: "chan-ok", text: "delivered" }), ` ${fmt.dateTime(last.sent_at)} (${last.event})`);
  }
  const tries = `${last.attempts} attempt${last.attempts === 1 ? "" : "s"}`;
  const verb = last.status === "retrying" ? "failing, retrying" : "failed";
  return el("span", {}, el("span", { class: "chan-off", text: verb }),
    ` after ${tries}, for the alert of ${fmt.dateTime(last.created_at)} (${last.event})`, error);
}

async function sendTest(channel, button, result) {
  button.disabled = true;
  result.className = "chan-result muted";
  result.textContent = "sending…";
  try {
    const answer = await api.post(`${URL}/${encodeURIComponent(channel.name)}/test`, undefined, { quiet: true });
    if (answer.delivered) {
      result.className = "chan-result chan-ok";
      result.textContent = `Test delivered at ${fmt.timeSeconds(answer.at)} (${Math.round(answer.duration_ms)} ms)`;
      toast(`Test sent through ${channel.label}`, "success");
    } else {
      result.className = "chan-result chan-off";
      result.textContent = `Test failed: ${answer.error}`;
    }
  } catch (err) {
    result.className = "chan-result chan-off";
    result.textContent = `Test not sent: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

function testCell(channel, canEdit) {
  if (!canEdit) return el("span", { class: "muted", text: "admins only" });
  const result = el("span", { class: "chan-result", role: "status" });
  const button = el("button", {
    type: "button", class: "btn btn-small", text: "Send test", "data-channel": channel.name,
    disabled: !channel.configured, title: channel.configured ? `Send a test message through ${channel.label} now`
      : `Not configured: ${channel.problem}`,
  });
  button.addEventListener("click", () => sendTest(channel, button, result));
  return el("div", { class: "row-actions" }, button, result);
}

/** The rule form's channel boxes say which channels cannot deliver. */
function markRuleForm() {
  for (const box of document.querySelectorAll('#rule-form input[name="channel"]')) {
    const channel = states.get(box.value);
    const label = box.closest("label");
    let note = label.querySelector(".chan-note");
    if (!note) {
      note = el("span", { class: "muted chan-note" });
      label.append(note);
    }
    note.textContent = channel && !channel.configured ? " (not configured)" : "";
  }
}

/** Fill the channels table and the warning; `canEdit` shows the test buttons. */
export async function loadChannels(canEdit) {
  const tbody = document.querySelector("#channels tbody");
  const warning = document.getElementById("channel-warning");
  let body;
  try {
    body = await api.get(URL, { quiet: true });
  } catch (err) {
    emptyBody(tbody, 5, `Could not load the channels: ${err.message}`);
    return;
  }
  states.clear();
  for (const channel of body.channels) states.set(channel.name, channel);
  warning.hidden = body.configured > 0 || body.contact_points > 0;
  tbody.replaceChildren(...body.channels.map((c) => el("tr", { "data-channel": c.name, "data-configured": String(c.configured) },
    el("td", {}, el("strong", { text: c.label })),
    el("td", { class: "wrap" }, c.configured ? el("span", { class: "chan-ok", text: "configured" })
      : el("span", {}, el("span", { class: "chan-off", text: "not configured" }), el("div", { class: "muted", text: c.problem }))),
    el("td", { text: c.target || "—" }),
    el("td", { class: "wrap" }, lastDelivery(c.last_delivery)),
    el("td", {}, testCell(c, canEdit)))));
  markRuleForm();
}

/** A rule's channels, each marked by whether it can deliver; says so when none can. */
export function channelNames(names) {
  if (!names.length) return el("span", { class: "muted", text: "none" });
  const box = el("span", { class: "chan-list" });
  names.forEach((name, i) => {
    const channel = states.get(name);
    const known = Boolean(channel);
    const ok = known && channel.configured;
    if (i) box.append(", ");
    box.append(el("span", { class: ok || !known ? "" : "muted", "data-channel": name,
      title: !known ? "" : ok ? `${channel.label}: configured` : `${channel.label}: not configured (${channel.problem})`,
      text: ok || !known ? name : `${name} (not configured)` }));
  });
  if (states.size && !names.some((n) => states.get(n) && states.get(n).configured)) {
    box.append(el("div", { class: "chan-off chan-nobody", text: "reaches nobody" }));
  }
  return box;
}
