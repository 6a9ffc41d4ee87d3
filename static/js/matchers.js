// Label matchers as people type them: `team=ml, severity=~crit.*, env!=dev` <-> [{label, op, value}].
import { el } from "./dom.js";

const OPS = ["=~", "!~", "!=", "="];

/** Parse a comma-separated matcher list; throws with a readable message on a bad part. */
export function parseMatchers(text, what = "Matchers") {
  const out = [];
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = part.match(/^([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*)$/);
    if (!m || !OPS.includes(m[2])) throw new Error(`${what}: write each as label=value, label!=value or label=~regex (got “${part}”)`);
    out.push({ label: m[1], op: m[2], value: m[3].replace(/^"(.*)"$/, "$1") });
  }
  return out;
}

export function formatMatchers(matchers) {
  return (matchers || []).map((m) => `${m.label}${m.op}${m.value}`).join(", ") || "every alert";
}

/** Comma-separated names -> list. */
export function parseList(text) {
  return text.split(",").map((p) => p.trim()).filter(Boolean);
}

/** A small inline code list of matchers for a table cell. */
export function matcherCell(matchers) {
  return el("code", { class: "matchers", text: formatMatchers(matchers) });
}
