// Weekday-by-hour heatmap drawn with a CSS grid (no chart library): 7 rows × 24 hours,
// each cell coloured by one of ten levels (classes .lv0 … .lv9 in app.css), plus its table view.
import { count, isNum } from "./format.js";

const LEVELS = 10;
// Row order of the answer's 7 × 24 grid: Monday first (Python's weekday()).
export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** Draw `grid` (7 arrays of 24 counts) into the element `id`; returns the total count. With
 * `cellHref(weekday, hour)`, each non-empty cell is a link to the rows behind it. */
export function drawHeatmap(id, grid, cellHref = null) {
  const box = document.getElementById(id);
  const panel = box.closest(".chart-panel");
  const rows = Array.isArray(grid) ? grid.slice(0, 7) : [];
  const max = Math.max(0, ...rows.flat().filter(isNum));
  const total = rows.flat().filter(isNum).reduce((a, b) => a + b, 0);
  const cells = [];
  const corner = document.createElement("span");
  corner.className = "hm-head";
  cells.push(corner);
  // One label per three hours, each spanning its three columns (class hm-hour).
  for (let h = 0; h < 24; h += 3) {
    const head = document.createElement("span");
    head.className = "hm-head hm-hour";
    head.textContent = String(h);
    cells.push(head);
  }
  rows.forEach((row, d) => {
    const label = document.createElement("span");
    label.className = "hm-head hm-day";
    label.textContent = WEEKDAYS[d];
    cells.push(label);
    for (let h = 0; h < 24; h += 1) {
      const value = isNum(row[h]) ? row[h] : 0;
      const href = cellHref && value > 0 ? cellHref(d, h) : null;
      const cell = document.createElement(href ? "a" : "span");
      if (href) {
        cell.href = href;
        cell.classList.add("drillable");
      }
      const level = max > 0 && value > 0 ? Math.min(LEVELS - 1, 1 + Math.floor((value / max) * (LEVELS - 1))) : 0;
      cell.classList.add("hm-cell", `lv${level}`);
      cell.title = `${WEEKDAYS[d]} ${String(h).padStart(2, "0")}:00 — ${count(value)}`;
      cell.dataset.value = String(value);
      cells.push(cell);
    }
  });
  box.replaceChildren(...cells);
  if (panel) panel.dataset.state = total > 0 ? "ready" : "empty";
  const tableBox = document.getElementById(`table-${id}`);
  if (tableBox) {
    tableBox.$render = () => renderTable(tableBox, rows);
    if (!tableBox.hidden) tableBox.$render();
  }
  return total;
}

function renderTable(box, rows) {
  const table = document.createElement("table");
  table.className = "data-table heatmap-table";
  const caption = document.createElement("caption");
  caption.textContent = "Activity by weekday (rows) and hour of day (columns)";
  table.append(caption);
  const head = table.createTHead().insertRow();
  const corner = document.createElement("th");
  corner.scope = "col";
  corner.textContent = "Day";
  head.append(corner);
  for (let h = 0; h < 24; h += 1) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = `${String(h).padStart(2, "0")}h`;
    head.append(th);
  }
  const body = table.createTBody();
  rows.forEach((row, d) => {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = WEEKDAYS[d];
    tr.append(th);
    for (let h = 0; h < 24; h += 1) tr.insertCell().textContent = count(isNum(row[h]) ? row[h] : 0);
  });
  // The .chart-table box itself scrolls sideways (with the shared scroll hint).
  box.replaceChildren(table);
}
