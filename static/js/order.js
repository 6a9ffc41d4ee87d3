// Order page: the transaction, its customer, its lines and its status history.
import { api } from "./api.js";
import { el, emptyBody } from "./dom.js";
import { fmt, money } from "./format.js";
import { customerHref } from "./links.js";

const ID = document.getElementById("order-id").dataset.id;

async function load() {
  const body = await api.get(`/admin/api/orders/${encodeURIComponent(ID)}`);
  const tx = body.transaction;
  document.getElementById("order-meta").textContent = `Created ${fmt.dateTime(tx.created_at)}, last updated ${fmt.dateTime(tx.updated_at)}`;
  document.getElementById("o-amount").textContent = money(tx.amount_cents, tx.currency);
  document.getElementById("o-status").replaceChildren(el("span", { class: `pill pill-${tx.status}`, text: tx.status }));
  document.getElementById("o-customer").replaceChildren(tx.customer_id
    ? el("a", { href: customerHref(tx.customer_id), text: tx.customer_id }) : "—");
  document.getElementById("o-channel").textContent = tx.channel || "—";
  const items = document.querySelector("#o-items tbody");
  items.replaceChildren(...body.items.map((i) => el("tr", {}, el("td", { text: i.sku }),
    el("td", i.known ? { text: i.name } : { class: "muted", text: "unknown product" }),
    el("td", { class: "num", text: String(i.quantity) }),
    el("td", { class: "num", text: money(i.amount_cents, tx.currency) }))));
  if (!body.items.length) emptyBody(items, 4, "No items were sent with this order");
  const rows = document.querySelector("#o-history tbody");
  rows.replaceChildren(...body.history.map((h) => el("tr", {}, el("td", { text: fmt.dateTime(h.at) }),
    el("td", {}, el("span", { class: `pill pill-${h.status}`, text: h.status })),
    el("td", { text: fmt.dateTime(h.received_at) }))));
  if (!body.history.length) emptyBody(rows, 3, "No status recorded");
}

document.addEventListener("live:refresh", () => load().catch(() => {}));
load().catch((err) => {
  document.getElementById("order-meta").textContent = err.status === 404 ? "No such order is stored." : "unavailable";
});
