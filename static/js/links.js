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
