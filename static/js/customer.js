// Customer page: figures, revenue per currency, activity timeline and every transaction (paged).
import { api, withQuery } from "./api.js";
import { el, emptyBody } from "./dom.js";
import { count, fmt, money } from "./format.js";
import { orderHref } from "./links.js";

const ID = document.getElementById("customer-id").dataset.id;
const URL_BASE = `/admin/api/customers/${encodeURIComponent(ID)}`;
const txBody = document.querySelector("#c-tx tbody");
const more = document.getElementById("c-more");
let cursor = null;

function txRow(tx) {
  return el("tr", { "data-id": tx.id },
    el("td", { text: fmt.dateTime(tx.created_at) }),
    el("td", {}, el("a", { href: orderHref(tx.id), text: tx.id })),
    el("td", { text: tx.channel || "—" }),
    el("td", { class: "num", text: money(tx.amount_cents, tx.currency) }),
    el("td", {}, el("span", { class: `pill pill-${tx.status}`, text: tx.status })));
}

function timeline(body) {
  const items = [
    ...body.activities.map((a) => ({ t: a.created_at, text: a.detail ? `${a.action}: ${a.detail}` : a.action })),
    ...body.transactions.map((tx) => ({ t: tx.created_at, text: `${tx.status} ${money(tx.amount_cents, tx.currency)}`, href: orderHref(tx.id) })),
  ].sort((a, b) => (a.t < b.t ? 1 : a.t > b.t ? -1 : 0));
  const list = document.getElementById("c-timeline");
  list.replaceChildren(...items.map((i) => el("li", {}, el("time", { datetime: i.t, text: fmt.dateTime(i.t) }),
    i.href ? el("a", { href: i.href, text: i.text }) : el("span", { text: i.text }))));
  if (!items.length) list.replaceChildren(el("li", { class: "muted", text: "No activity recorded" }));
}

async function load(first) {
  const body = await api.get(withQuery(URL_BASE, { cursor: first ? null : cursor, limit: 50 }));
  if (first) {
    document.getElementById("customer-meta").textContent = body.last_transaction_at
      ? `Last transaction ${fmt.dateTime(body.last_transaction_at)}` : "No transaction yet";
    document.getElementById("c-first-seen").textContent = body.first_seen ? fmt.dateTime(body.first_seen) : "—";
    document.getElementById("c-transactions").textContent = count(body.transactions_count);
    document.getElementById("c-orders").textContent = count(body.orders);
    document.getElementById("c-repeat").textContent = count(body.repeat_purchases);
    const rev = document.querySelector("#c-revenue tbody");
    rev.replaceChildren(...body.revenue.map((r) => el("tr", {}, el("td", { text: r.currency }),
      el("td", { class: "num", text: money(r.revenue_cents, r.currency) }),
      el("td", { class: "num", text: count(r.orders) }), el("td", { class: "num", text: count(r.transactions) }))));
    if (!body.revenue.length) emptyBody(rev, 4, "No transaction yet");
    timeline(body);
    txBody.replaceChildren();
  }
  txBody.append(...body.transactions.map(txRow));
  if (!txBody.rows.length) emptyBody(txBody, 5, "No transaction yet");
  cursor = body.next_cursor;
  more.hidden = !cursor;
}

more.addEventListener("click", () => load(false).catch(() => {}));
document.addEventListener("live:refresh", () => load(true).catch(() => {}));
load(true).catch((err) => {
  document.getElementById("customer-meta").textContent = err.status === 404 ? "Nothing is stored for this customer." : "unavailable";
});
