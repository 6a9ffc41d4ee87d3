// Maintenance page: which windows the table shows (name contains `q`, `kind`, `state` active or
// not). The choice lives in the address, so reload, back/forward and a pasted link show the same
// windows; values the form does not offer fall back to "any".
import { onPopState, readState, writeState } from "./url-state.js";

const form = document.getElementById("window-filters");
const KEYS = ["q", "kind", "state"];

const offered = (select) => [...select.options].map((o) => o.value);

/** Fill the filter form from the address. */
function fill() {
  const view = readState(KEYS);
  form.q.value = (view.q || "").slice(0, 80);
  form.kind.value = offered(form.kind).includes(view.kind) ? view.kind : "";
  form.state.value = offered(form.state).includes(view.state) ? view.state : "";
}

/** Whether window `w` (as the API lists it) passes the form's filters. */
export function shown(w) {
  const q = form.q.value.trim().toLocaleLowerCase();
  if (q && !w.name.toLocaleLowerCase().includes(q)) return false;
  if (form.kind.value && w.kind !== form.kind.value) return false;
  if (form.state.value === "active" && !w.active_now) return false;
  if (form.state.value === "inactive" && w.active_now) return false;
  return true;
}

/** Whether any filter is set (an empty table then says nothing matches, not that none exists). */
export function filtering() {
  return Boolean(form.q.value.trim() || form.kind.value || form.state.value);
}

/** Call `redraw()` whenever the filters change: a choice here (a new history entry) or back/forward. */
export function watchFilters(redraw) {
  fill();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    writeState({ q: form.q.value.trim(), kind: form.kind.value, state: form.state.value }, { push: true });
    redraw();
  });
  form.addEventListener("change", () => form.requestSubmit());
  form.addEventListener("reset", () => setTimeout(() => form.requestSubmit(), 0));
  onPopState(() => {
    fill();
    redraw();
  });
}
