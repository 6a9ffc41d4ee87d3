// Products page: low stock first, best sellers by revenue and by units (and categories) over the
// picked range and currency, and the whole catalogue as a searchable, sortable, filterable table.
// Every figure comes from /admin/api/products and /admin/api/products/top as answered.
import { api, withQuery } from "./api.js";
import { setCaption, setCard, setCardError, setExtra } from "./cards.js";
import { currencyPicker, otherTotals, pickedCurrency } from "./currency.js";
import { TZ, count, dateInputValue, fmt, localMidnight, money } from "./format.js";
import { currentRange, fillTable, rangeLabel, rangeProblem } from "./insights-range.js";

const PAGE = 50;
const FIRST_RANGE_DAYS = 30;
const STATE_TEXT = { in_stock: "In stock", low: "Low", out_of_stock: "Out of stock", untracked: "Not tracked", inactive: "Inactive" };
const state = { sort: "name", order: "asc", offset: 0, request: 0, searchTimer: null };
const picker = currencyPicker();
const rangeError = document.getElementById("range-error");

function rangeParams() {
  const range = currentRange();
  const params = { currency: pickedCurrency() };
  if (range) Object.assign(params, { start: range[0].toISOString(), end: range[1].toISOString() });
  return params;
}

const name = (p) => p.name || `${p.sku} (unknown product)`;
const num = (text) => ({ text, num: true });

async function loadTop() {
  const params = rangeParams();
  const [byRevenue, byUnits] = await Promise.all([
    api.get(withQuery("/admin/api/products/top", { ...params, by: "revenue", limit: 10 })),
    api.get(withQuery("/admin/api/products/top", { ...params, by: "units", limit: 10 })),
  ]);
  picker.show(byRevenue);
  const code = byRevenue.currency;
  const caption = `${code ? `${code}, ` : ""}${rangeLabel(byRevenue.start, byRevenue.end)}`;
  for (const key of ["range_revenue", "range_units"]) setCaption(key, caption);
  setCard("range_revenue", code ? byRevenue.revenue_cents : null, (v) => money(v, code));
  setExtra("range_revenue", otherTotals(byRevenue.currencies, code) ? `Other currencies: ${otherTotals(byRevenue.currencies, code)}` : "");
  setCard("range_units", code ? byRevenue.units : null, count);
  const row = (p) => [name(p), p.category || "—", num(count(p.units)), num(money(p.revenue_cents, code))];
  fillTable("top-revenue-table", byRevenue.products.map(row), "No sales in this range");
  fillTable("top-units-table", byUnits.products.map(row), "No sales in this range");
  fillTable("top-categories-table", byRevenue.categories.map((c) => [c.category || "Uncategorised",
    num(count(c.units)), num(money(c.revenue_cents, code))]), "No sales in this range");
}

async function loadLow() {
  const body = await api.get(withQuery("/admin/api/products", { state: "low", sort: "stock", limit: 100 }));
  fillTable("low-stock-table", body.products.map((p) => [name(p), p.sku, num(count(p.stock)),
    num(count(p.threshold)), p.low_since ? fmt.dateTime(p.low_since) : "—"]), "No product is low on stock");
  setCard("active_products", body.active_products, count);
  setCard("low_stock_products", body.low_stock_products, count);
  setExtra("low_stock_products", `at or below each product's threshold (default ${body.low_stock_threshold})`);
}

async function loadTable() {
  const ticket = ++state.request;
  const filters = new FormData(document.getElementById("product-filters"));
  const body = await api.get(withQuery("/admin/api/products", {
    ...rangeParams(), q: filters.get("q") || "", category: filters.get("category") || "",
    state: filters.get("state") || "all", sort: state.sort, order: state.order, limit: PAGE, offset: state.offset,
  }));
  if (ticket !== state.request) return;
  const select = document.getElementById("product-category");
  const chosen = select.value;
  select.replaceChildren(new Option("All", ""), ...body.categories.map((c) => new Option(c, c, false, c === chosen)));
  const code = body.currency;
  fillTable("products-table", body.products.map((p) => [name(p), p.sku, p.category || "—",
    STATE_TEXT[p.state] || p.state, num(p.stock === null ? "—" : count(p.stock)), num(count(p.threshold)),
    num(p.price_cents === null ? "—" : money(p.price_cents, p.price_currency || code || "USD")),
    num(count(p.units)), num(code ? money(p.revenue_cents, code) : "—")]), "No product matches");
  const last = Math.min(body.offset + body.products.length, body.total);
  document.getElementById("page-note").textContent = body.total
    ? `${count(body.offset + 1)}–${count(last)} of ${count(body.total)}` : "";
  document.getElementById("page-prev").disabled = body.offset === 0;
  document.getElementById("page-next").disabled = last >= body.total;
  for (const button of document.querySelectorAll("#products-table .sort")) {
    const sorted = button.dataset.sort === state.sort;
    button.closest("th").setAttribute("aria-sort", sorted ? (state.order === "asc" ? "ascending" : "descending") : "none");
  }
}

async function run(task, cards = []) {
  try {
    await task();
  } catch (err) {
    for (const key of cards) setCardError(key, err.message);
  }
}

function loadAll() {
  const problem = rangeProblem();
  rangeError.textContent = problem;
  rangeError.hidden = !problem;
  if (problem) return;
  run(loadLow, ["active_products", "low_stock_products"]);
  run(loadTop, ["range_revenue", "range_units"]);
  run(loadTable);
}

function keepQuery() {
  const url = new URL(window.location.href);
  const text = document.getElementById("product-q").value.trim();
  if (text) url.searchParams.set("q", text);
  else url.searchParams.delete("q");
  window.history.replaceState(null, "", url);
}

function init() {
  document.getElementById("tz-note").textContent = `Times in ${TZ}`;
  document.getElementById("range-start").value = dateInputValue(localMidnight(FIRST_RANGE_DAYS - 1));
  document.getElementById("range-end").value = dateInputValue(localMidnight(0));
  document.getElementById("range-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadAll();
  });
  // `?q=` (a search hit's link) opens the table filtered by that text; typing keeps it in the address.
  const asked = new URLSearchParams(window.location.search).get("q");
  if (asked) document.getElementById("product-q").value = asked;
  const filters = document.getElementById("product-filters");
  filters.addEventListener("submit", (event) => event.preventDefault());
  filters.addEventListener("change", () => { state.offset = 0; run(loadTable); });
  document.getElementById("product-q").addEventListener("input", () => {
    clearTimeout(state.searchTimer);
    state.searchTimer = setTimeout(() => { state.offset = 0; keepQuery(); run(loadTable); }, 250);
  });
  for (const button of document.querySelectorAll("#products-table .sort")) {
    button.addEventListener("click", () => {
      const key = button.dataset.sort;
      state.order = state.sort === key && state.order === "desc" ? "asc" : (state.sort === key ? "desc" : (["units", "revenue", "price", "stock"].includes(key) ? "desc" : "asc"));
      state.sort = key;
      state.offset = 0;
      run(loadTable);
    });
  }
  document.getElementById("page-prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); run(loadTable); });
  document.getElementById("page-next").addEventListener("click", () => { state.offset += PAGE; run(loadTable); });
  document.addEventListener("currency:change", loadAll);
  document.addEventListener("live:refresh", loadAll);
  loadAll();
}

init();
