// Alerts page: the history filters live in the address (status, severity, rule, from, to), so a
// link, reload or back/forward shows the same history. alerts.js applies the form on submit.
import { localInputValue, onPopState, readState, writeState } from "./url-state.js";

const form = document.getElementById("history-filters");
const KEYS = ["status", "severity", "rule", "since", "until"];
let restoring = false;
const DEFAULT_STATUS = form ? form.status.value : "";

function fill() {
  const view = readState(KEYS);
  form.status.value = view.status || DEFAULT_STATUS;
  form.severity.value = view.severity || "";
  form.since.value = view.since ? localInputValue(view.since) : "";
  form.until.value = view.until ? localInputValue(view.until) : "";
  const rule = view.rule || "";
  form.rule.value = rule;
  if (rule && form.rule.value !== rule) {
    // The rule list arrives after the page: pick the rule once its option exists.
    const watch = new MutationObserver(() => {
      if ([...form.rule.options].some((o) => o.value === rule)) {
        watch.disconnect();
        form.rule.value = rule;
        restoring = true;
        form.requestSubmit();
      }
    });
    watch.observe(form.rule, { childList: true });
  }
  restoring = true;
  form.requestSubmit();
}

if (form) {
  form.addEventListener("submit", () => {
    const iso = (v) => (v ? new Date(v).toISOString() : "");
    if (!restoring) {
      writeState({ status: form.status.value, severity: form.severity.value, rule: form.rule.value,
        since: iso(form.since.value), until: iso(form.until.value) }, { push: true });
    }
    restoring = false;
  });
  onPopState(fill);
  if (Object.keys(readState(KEYS)).length) fill();
}
