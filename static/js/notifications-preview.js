// Notifications page: "where would an alert go". The labels and severity asked about live in the
// address (`labels`, `severity`), so reload, back/forward and a pasted link show the same answer.
import { api } from "./api.js";
import { parseLabels } from "./alert-labels.js";
import { onPopState, readState, writeState } from "./url-state.js";

const form = document.getElementById("preview-form");
const out = document.getElementById("preview-result");
const SEVERITIES = [...form.severity.options].map((o) => o.value);
const DEFAULT_SEVERITY = form.severity.value;
let ticket = 0; // the newest question; an older answer arriving late is dropped

/** Ask the server where an alert with the form's labels and severity would go, and say it. */
async function preview() {
  const mine = ++ticket;
  let labels;
  try {
    labels = parseLabels(form.labels.value);
  } catch (err) {
    out.textContent = err.message;
    return;
  }
  try {
    const r = await api.post("/admin/api/notification-policies/preview", { labels, severity: form.severity.value }, { quiet: true });
    if (mine === ticket) out.textContent = r.routes.map((x) => `${x.name} → ${x.channels.join(", ") || "nobody"}`).join("; ");
  } catch (err) {
    if (mine === ticket) out.textContent = err.message;
  }
}

/** The question the address names (labels that do not parse and unknown severities fall back to the defaults). */
function restore() {
  const view = readState(["labels", "severity"]);
  let labels = (view.labels || "").slice(0, 2000);
  try {
    parseLabels(labels);
  } catch (err) {
    labels = "";
  }
  form.labels.value = labels;
  form.severity.value = SEVERITIES.includes(view.severity) ? view.severity : DEFAULT_SEVERITY;
  if (Object.keys(view).length) preview();
  else out.textContent = "";
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  writeState({ labels: form.labels.value.trim(), severity: form.severity.value }, { push: true });
  preview();
});
onPopState(restore);
restore();
