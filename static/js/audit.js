// Audit page: filters and older pages by cursor. Read-only: the API has no write route.
// The filters and how many pages are shown live in the address (audit-url.js).
import { api, formFilters, withQuery } from "./api.js";
import { fillForm, savePages, saveFilters, viewPages, watchHistory } from "./audit-url.js";
import { fmt } from "./format.js";
import { emptyRow } from "./tables.js";

const form = document.getElementById("audit-filters");
const body = document.getElementById("audit-table").tBodies[0];
const olderBtn = document.getElementById("audit-older");
let filters = {};
let cursor = null;
let pages = 0; // pages of entries on screen (the first plus every "older" one loaded)
let ticket = 0; // the newest load; an older answer arriving late is dropped

function readFilters() {
  return formFilters(form, ["actor", "action", "outcome"]);
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined || text === "" ? "—" : String(text);
  if (className) td.className = className;
  return td;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A detail value as text: times in the page's one format, lists joined, nothing cut off. */
function detailText(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.map(detailText).join(", ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string" && ISO_TIME.test(value)) return fmt.dateTime(value);
  return String(value);
}

/** Flatten {a: 1, b: {c: 2}} into [["a", 1], ["b.c", 2]]. */
function pairs(detail, prefix = "") {
  return Object.entries(detail).flatMap(([key, value]) => (value && typeof value === "object" && !Array.isArray(value)
    ? pairs(value, `${prefix}${key}.`) : [[`${prefix}${key}`, value]]));
}

/** The entry's detail as readable key/value lines (a <dl>), never raw JSON. */
function detailCell(detail) {
  const td = document.createElement("td");
  td.className = "detail";
  if (!detail || typeof detail !== "object" || !Object.keys(detail).length) {
    td.textContent = detail ? detailText(detail) : "—";
    return td;
  }
  const list = document.createElement("dl");
  list.className = "kv";
  for (const [key, value] of pairs(detail)) {
    const item = document.createElement("div");
    const dt = document.createElement("dt");
    dt.textContent = key.replace(/_/g, " ");
    const dd = document.createElement("dd");
    dd.textContent = detailText(value);
    item.append(dt, dd);
    list.append(item);
  }
  td.append(list);
  return td;
}

function row(entry) {
  const tr = document.createElement("tr");
  const when = document.createElement("td");
  const time = document.createElement("time");
  time.dateTime = entry.created_at;
  time.textContent = fmt.dateTime(entry.created_at);
  time.title = entry.created_at;
  when.append(time);
  tr.append(when, cell(entry.actor), cell(entry.ip), cell(entry.action), cell(entry.target),
    cell(entry.outcome, `outcome-${entry.outcome}`),
    detailCell(entry.detail));
  return tr;
}

function showEmpty(text) {
  body.replaceChildren(emptyRow(7, text));
}

/** The first page (or, with `older`, the next one); false when nothing more was shown. */
async function load(older) {
  const mine = older ? ticket : ++ticket;
  olderBtn.disabled = true;
  try {
    const data = await api.get(withQuery("/admin/api/audit", Object.assign(
      { limit: 100 }, filters, older && cursor ? { cursor } : {})));
    if (mine !== ticket) return false;
    if (!older) {
      body.replaceChildren();
      pages = 0;
    }
    for (const entry of data.entries) body.append(row(entry));
    pages += 1;
    cursor = data.next_cursor;
    olderBtn.hidden = !cursor;
    if (!body.children.length) showEmpty("No entries match these filters.");
    return true;
  } catch (err) {
    if (mine === ticket && !older) showEmpty("Could not load the audit trail.");
    return false;
  } finally {
    olderBtn.disabled = false;
  }
}

/** The view the address names: its filters, then as many pages as it says were shown. */
async function restore() {
  fillForm(form);
  filters = readFilters();
  const mine = ticket + 1; // the ticket load(false) takes: a later choice stops the older pages
  if (!await load(false)) return;
  const want = viewPages();
  while (pages < want && cursor && mine === ticket) {
    if (!await load(true)) return;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  filters = readFilters();
  saveFilters(filters);
  load(false);
});
form.addEventListener("reset", () => setTimeout(() => form.requestSubmit(), 0));
olderBtn.addEventListener("click", async () => {
  if (await load(true)) savePages(pages);
});
watchHistory(restore);
restore();
