// Labels and annotations of alert rules and alerts: chips, the runbook link, the rule form fields.
// Text only (el() never parses HTML); a runbook link is made only for http(s) URLs.
import { el } from "./dom.js";

/** Small "key=value" chips, sorted by key; null when there are none. */
export function labelChips(labels) {
  const entries = Object.entries(labels || {}).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return null;
  return el("div", { class: "label-chips" }, ...entries.map(([k, v]) => el("span", { class: "label-chip", text: `${k}=${v}` })));
}

/** The runbook as a link that opens in a new tab, or null. */
export function runbookLink(annotations) {
  const url = (annotations || {}).runbook_url;
  if (!url || !/^https?:\/\//i.test(url)) return null;
  return el("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "runbook-link", text: "Runbook" });
}

/** What goes under an alert's title in a table: summary, runbook link, labels, and a muted mark. */
export function alertExtras(alert) {
  const ann = alert.annotations || {};
  const line = ann.summary || runbookLink(ann)
    ? el("div", { class: "muted alert-summary" }, ann.summary || "", ann.summary && runbookLink(ann) ? " · " : "", runbookLink(ann))
    : null;
  const marks = [];
  if (alert.muted_by) marks.push(el("span", { class: "muted-tag", title: alert.muted_by, text: `muted: ${alert.muted_by}` }));
  if (alert.inhibited_by) marks.push(el("span", { class: "muted-tag", text: `inhibited by ${alert.inhibited_by}` }));
  return [line, labelChips(alert.labels), marks.length ? el("div", {}, ...marks) : null];
}

/** Detail rows [term, node] for the alert dialog. */
export function detailRows(alert) {
  const ann = alert.annotations || {};
  return [["Labels", labelChips(alert.labels) || "—"], ["Summary", ann.summary || "—"],
    ["Description", ann.description || "—"], ["Runbook", runbookLink(ann) || "—"]];
}

/** "team=ml, service=api" -> {team: "ml", service: "api"}; throws on a pair without "=". */
export function parseLabels(text) {
  const out = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf("=");
    if (at < 1) throw new Error(`Labels: write each as name=value (got “${part}”)`);
    out[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return out;
}

export function formatLabels(labels) {
  return Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`).join(", ");
}

/** Fill the rule form's label and annotation fields from a rule (or empty them). */
export function fillRuleLabels(form, rule) {
  form.labels.value = rule ? formatLabels(rule.labels) : "";
  const ann = rule ? rule.annotations || {} : {};
  form.summary.value = ann.summary || "";
  form.description.value = ann.description || "";
  form.runbook_url.value = ann.runbook_url || "";
}

/** The rule form's labels and annotations as the API takes them. */
export function ruleLabelsBody(form) {
  return {
    labels: parseLabels(form.labels.value),
    annotations: { summary: form.summary.value, description: form.description.value, runbook_url: form.runbook_url.value },
  };
}
