// Where a customer id, an order (transaction) id, an alert or a log line leads: one place, so every
// page links them the same way.

/** The customer page of `id` (null when there is none to link). */
export function customerHref(id) {
  return id ? `/admin/customers/${encodeURIComponent(id)}` : null;
}

/** The order page of transaction `id`. */
export function orderHref(id) {
  return id ? `/admin/orders/${encodeURIComponent(id)}` : null;
}

/** The drill-down page listing the `kind` rows (transactions, activities, logs, requests) behind a figure. */
export function exploreHref(kind, params = {}) {
  const query = new URLSearchParams({ kind });
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, String(value));
  }
  return `/admin/explore?${query}`;
}
