// The Revenue page's range and bucket-size controls, read by the Customers and Channels sections,
// so every section of the page shows the same dates and the same hourly/daily/weekly toggle.
import { fmt } from "./format.js";

const FEED_RELOAD_MS = 30000;

export const LABEL = {
  hourly: (v) => fmt.dayHour(v),
  daily: (v) => fmt.day(v),
  weekly: (v) => `Week of ${fmt.day(v)}`,
};

/** The pressed bucket size ("daily" until the page says otherwise). */
export function currentPeriod() {
  const pressed = document.querySelector('.period[aria-pressed="true"]');
  return (pressed && pressed.dataset.period) || "daily";
}

/** The chosen dates as [start, end) instants (local midnights, end day included), or null. */
export function currentRange() {
  const start = document.getElementById("range-start");
  const end = document.getElementById("range-end");
  if (!start || !end || !start.value || !end.value) return null;
  const [sy, sm, sd] = start.value.split("-").map(Number);
  const [ey, em, ed] = end.value.split("-").map(Number);
  const range = [new Date(sy, sm - 1, sd), new Date(ey, em - 1, ed + 1)];
  return range[1] > range[0] ? range : null;
}

/**
 * Call `load(background)` whenever the page's range or period changes, after a reconnect, and
 * (at most every 30 s) when new transactions arrive while the range reaches today.
 */
export function onRangeChange(load) {
  let loadedAt = 0;
  let timer = null;
  const run = (background) => {
    loadedAt = Date.now();
    load(background);
  };
  // The page's own handlers run first (its script is earlier), so the inputs are already updated.
  for (const button of document.querySelectorAll(".period")) {
    button.addEventListener("click", () => run(false));
  }
  const form = document.getElementById("range-form");
  if (form) form.addEventListener("submit", () => run(false));
  document.addEventListener("live:refresh", () => run(true));
  document.addEventListener("live:feed", (event) => {
    const range = currentRange();
    if (!(event.detail && (event.detail.transactions || []).length) || timer) return;
    if (!range || range[1] < new Date()) return;
    timer = setTimeout(() => {
      timer = null;
      run(true);
    }, Math.max(0, FEED_RELOAD_MS - (Date.now() - loadedAt)));
  });
  // The page fills the date inputs when its script starts; read them once that has happened.
  queueMicrotask(() => run(false));
}

/** Replace a table's body with `rows`: arrays of cells, each a text or `{ text, num: true }`. */
export function fillTable(id, rows, emptyText) {
  const table = document.getElementById(id);
  if (!table) return;
  const body = table.tBodies[0];
  body.replaceChildren();
  if (!rows.length) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = table.tHead.rows[0].cells.length;
    cell.className = "empty-cell";
    cell.textContent = emptyText;
    return;
  }
  for (const cells of rows) {
    const row = body.insertRow();
    for (const value of cells) {
      const cell = row.insertCell();
      const item = typeof value === "object" && value !== null ? value : { text: value };
      if (item.num) cell.className = "num";
      cell.textContent = item.text;
    }
  }
}

/** A right-aligned table cell. */
export const num = (text) => ({ text, num: true });
