// A page's view in its address: range, period, time zone, currency, filters and sorting live in
// the query string, so reload, back/forward and a pasted link show the same view.

/** The query string's values for `keys` (absent ones left out). */
export function readState(keys) {
  const params = new URLSearchParams(location.search);
  const out = {};
  for (const key of keys) if (params.has(key)) out[key] = params.get(key);
  return out;
}

/**
 * Put `values` in the address (empty ones removed, other parameters kept). `push` makes a new
 * history entry (a choice the admin made); otherwise the current one is replaced.
 */
export function writeState(values, { push = false } = {}) {
  const url = new URL(location.href);
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === undefined || value === "") url.searchParams.delete(key);
    else url.searchParams.set(key, String(value));
  }
  if (url.href === location.href) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(history.state, "", url);
}

/** Call `restore()` when back/forward lands on another entry of this page. */
export function onPopState(restore) {
  window.addEventListener("popstate", () => restore());
}

/** A datetime-local input's value for an ISO instant (the browser's zone), "" when not a time. */
export function localInputValue(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
