// Drill-down page: the rows behind a figure. Everything it shows comes from its own address
// (kind and the figure's filters), so a link reproduces it; "Export" downloads the same rows.
import { api, withQuery } from "./api.js";
import { el, emptyBody } from "./dom.js";
import { count, fmt, money } from "./format.js";
import { customerHref, orderHref } from "./links.js";

const params = new URLSearchParams(location.search);
const kind = params.get("kind") || "transactions";
params.delete("kind");
const filters = Object.fromEntries(params);
delete filters.cursor;
const table = document.getElementById("explore-table");
const more = document.getElementById("explore-more");
const link = (href, text) => (href ? el("a", { href, text }) : text || "—");
const COLUMNS = {
  transactions: [["Created", (r) => fmt.dateTime(r.created_at)], ["Transaction", (r) => link(orderHref(r.id), r.id)],
    ["Customer", (r) => link(customerHref(r.customer_id), r.customer_id)], ["Channel", (r) => r.channel || "—"],
    ["Amount", (r) => money(r.amount_cents, r.currency), true], ["Status", (r) => el("span", { class: `pill pill-${r.status}`, text: r.status })]],
  activities: [["Time", (r) => fmt.dateTime(r.created_at)], ["User", (r) => link(customerHref(r.user_id), r.user_id)],
    ["Action", (r) => r.action], ["Detail", (r) => r.detail || ""]],
  logs: [["Time", (r) => fmt.dateTime(r.created_at)], ["Level", (r) => r.level], ["Service", (r) => r.service], ["Message", (r) => r.message]],
  requests: [["Minute", (r) => fmt.dateTime(r.minute)], ["Endpoint", (r) => r.endpoint], ["Method", (r) => r.method],
    ["Requests", (r) => count(r.count), true], ["Errors", (r) => count(r.errors), true], ["Avg ms", (r) => (r.avg_ms ?? "—"), true]],
};
const EXPORT_TYPE = { transactions: "transactions", activities: "activity", logs: "logs", requests: "performance" };
const columns = COLUMNS[kind] || COLUMNS.transactions;
let cursor = null;

function describe(body) {
  document.getElementById("explore-title").textContent = `${kind[0].toUpperCase()}${kind.slice(1)} behind the figure`;
  document.getElementById("explore-meta").textContent = `${fmt.dateTime(body.start)} – ${fmt.dateTime(body.end)} (${body.tz})`;
  const list = document.getElementById("explore-filters");
  list.replaceChildren(...Object.entries(filters).map(([k, v]) => el("li", {}, el("strong", { text: `${k}: ` }), v)));
  const t = body.totals;
  let text = "";
  if (t && t.currencies) {
    text = `${count(t.count)} rows` + t.currencies.map((c) => `; ${c.currency}: ${count(c.count)} rows, `
      + `${money(c.amount_cents, c.currency)} in all, ${money(c.revenue_cents, c.currency)} completed (${count(c.orders)} orders)`).join("");
  } else if (t && "requests" in t) text = `${count(t.count)} minutes, ${count(t.requests)} requests, ${count(t.errors)} errors`;
  else if (t) text = `${count(t.count)} rows`;
  document.getElementById("explore-totals").textContent = text;
}

async function load(first) {
  const body = await api.get(withQuery(`/admin/api/explore/${encodeURIComponent(kind)}`, { ...filters, cursor: first ? null : cursor }));
  if (first) {
    describe(body);
    table.tHead.rows[0].replaceChildren(...columns.map(([label, , n]) => el("th", { class: n ? "num" : null, text: label })));
    table.tBodies[0].replaceChildren();
  }
  table.tBodies[0].append(...body.rows.map((r) => el("tr", { "data-row": r.id, "data-cents": r.amount_cents ?? null }, ...columns.map(([, cell, n]) => el("td", { class: n ? "num" : null }, cell(r))))));
  if (!table.tBodies[0].rows.length) emptyBody(table.tBodies[0], columns.length, "No rows");
  cursor = body.next_cursor;
  more.hidden = !cursor;
}

document.getElementById("explore-export").addEventListener("click", async () => {
  const made = await api.post("/admin/api/export", { data_type: EXPORT_TYPE[kind], format: "csv", filters });
  const a = document.getElementById("explore-download");
  a.href = made.url;
  a.download = made.filename;
  a.textContent = `Download ${made.filename}`;
  a.hidden = false;
  a.click();
});
more.addEventListener("click", () => load(false).catch(() => {}));
document.addEventListener("live:refresh", () => load(true).catch(() => {}));
load(true).catch((err) => { document.getElementById("explore-meta").textContent = err.message; });
