// Audit page's view in the address: the filters (actor, action, outcome, since, until) and how
// many pages of entries are shown (`pages`), so reload, back/forward and a pasted link show the
// same entries. Values that cannot be right fall back to the defaults.
import { localInputValue, onPopState, readState, writeState } from "./url-state.js";

const KEYS = ["actor", "action", "outcome", "since", "until", "pages"];
// A link cannot ask for more than this many pages (100 entries each) to be loaded at once.
const MAX_PAGES = 20;

/** Fill the filter form from the address; unknown outcomes and bad times are left empty. */
export function fillForm(form) {
  const view = readState(KEYS);
  form.actor.value = (view.actor || "").slice(0, 200);
  form.action.value = (view.action || "").slice(0, 200);
  const outcomes = [...form.outcome.options].map((o) => o.value);
  form.outcome.value = outcomes.includes(view.outcome) ? view.outcome : "";
  form.since.value = view.since ? localInputValue(view.since) : "";
  form.until.value = view.until ? localInputValue(view.until) : "";
}

/** How many pages the address says were shown (1 when absent or not a whole number in range). */
export function viewPages() {
  const { pages } = readState(["pages"]);
  const n = /^\d{1,3}$/.test(pages || "") ? Number(pages) : 1;
  return Math.min(Math.max(n, 1), MAX_PAGES);
}

/** New filters: a new history entry, back at the first page. */
export function saveFilters(filters) {
  writeState(Object.fromEntries(KEYS.map((k) => [k, k === "pages" ? "" : filters[k] || ""])), { push: true });
}

/** One more page shown: the address says so without a new history entry (back leaves the filters). */
export function savePages(pages) {
  writeState({ pages: pages > 1 ? Math.min(pages, MAX_PAGES) : "" });
}

/** Back/forward within the page: show the view of the entry landed on. */
export function watchHistory(restore) {
  onPopState(restore);
}
