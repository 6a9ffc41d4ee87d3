// Audit page: filters and older pages by cursor. Read-only: the API has no write route.
import { api, formFilters, withQuery } from "./api.js";
import { emptyRow } from "./tables.js";

const form = document.getElementById("audit-filters");
const body = document.getElementById("audit-table").tBodies[0];
const olderBtn = document.getElementById("audit-older");
const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
let filters = {};
let cursor = null;

function readFilters() {
  return formFilters(form, ["actor", "action", "outcome"]);
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined || text === "" ? "—" : String(text);
  if (className) td.className = className;
  return td;
}

function row(entry) {
  const tr = document.createElement("tr");
  const when = document.createElement("td");
  const time = document.createElement("time");
  time.dateTime = entry.created_at;
  time.textContent = timeFmt.format(new Date(entry.created_at));
  time.title = entry.created_at;
  when.append(time);
  tr.append(when, cell(entry.actor), cell(entry.ip), cell(entry.action), cell(entry.target),
    cell(entry.outcome, `outcome-${entry.outcome}`),
    cell(entry.detail ? JSON.stringify(entry.detail) : "", "detail"));
  return tr;
}

function showEmpty(text) {
  body.replaceChildren(emptyRow(7, text));
}

async function load(older) {
  olderBtn.disabled = true;
  try {
    const data = await api.get(withQuery("/admin/api/audit", Object.assign(
      { limit: 100 }, filters, older && cursor ? { cursor } : {})));
    if (!older) body.replaceChildren();
    for (const entry of data.entries) body.append(row(entry));
    cursor = data.next_cursor;
    olderBtn.hidden = !cursor;
    if (!body.children.length) showEmpty("No entries match these filters.");
  } catch (err) {
    if (!older) showEmpty("Could not load the audit trail.");
  } finally {
    olderBtn.disabled = false;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  filters = readFilters();
  load(false);
});
form.addEventListener("reset", () => setTimeout(() => form.requestSubmit(), 0));
olderBtn.addEventListener("click", () => load(true));
load(false);
