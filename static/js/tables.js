// Tables shared by the pages: a sortable table and a live list that grows at the top.

/** A cell value from a column definition: `format(row)` when given, else the raw field. */
function cellText(column, row) {
  if (column.format) return column.format(row[column.key], row);
  const v = row[column.key];
  return v === null || v === undefined ? "—" : String(v);
}

/** A one-cell row spanning `span` columns that says the table is empty (class `empty-row`). */
export function emptyRow(span, text) {
  const tr = document.createElement("tr");
  tr.className = "empty-row";
  const td = document.createElement("td");
  td.colSpan = span;
  td.className = "empty-cell";
  td.textContent = text;
  tr.append(td);
  return tr;
}

/**
 * A sortable table inside `container` (an element holding <table><thead>…): headers become
 * buttons; aria-sort tells screen readers the order. Call `.setRows(rows)` with fresh data.
 */
export function sortableTable(table, columns, { sortKey = null, descending = true, empty = "No data yet", onSort = null } = {}) {
  const state = { rows: [], key: sortKey || columns[0].key, desc: descending };
  const headRow = table.tHead.rows[0] || table.tHead.insertRow();
  headRow.replaceChildren();
  for (const column of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.dataset.key = column.key;
    if (column.numeric) th.classList.add("num");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.textContent = column.label;
    button.addEventListener("click", () => {
      if (state.key === column.key) state.desc = !state.desc;
      else {
        state.key = column.key;
        state.desc = Boolean(column.numeric);
      }
      render();
      if (onSort) onSort(state.key, state.desc);
    });
    th.append(button);
    headRow.append(th);
  }
  const body = table.tBodies[0] || table.createTBody();

  function compare(a, b) {
    const x = a[state.key];
    const y = b[state.key];
    let result;
    if (typeof x === "number" && typeof y === "number") result = x - y;
    else if (x === null || x === undefined) result = -1;
    else if (y === null || y === undefined) result = 1;
    else result = String(x).localeCompare(String(y));
    return state.desc ? -result : result;
  }

  function render() {
    for (const th of headRow.children) {
      th.setAttribute("aria-sort", th.dataset.key === state.key ? (state.desc ? "descending" : "ascending") : "none");
    }
    const rows = [...state.rows].sort(compare);
    const out = rows.map((row) => {
      const tr = document.createElement("tr");
      for (const column of columns) {
        const td = document.createElement("td");
        if (column.numeric) td.className = "num";
        const href = column.href ? column.href(row) : null;
        if (href) td.append(Object.assign(document.createElement("a"), { href, textContent: cellText(column, row) }));
        else td.textContent = cellText(column, row);
        if (column.extra && column.extra(row)) td.append(Object.assign(document.createElement("small"), { className: "muted cell-extra", textContent: ` ${column.extra(row)}` }));
        tr.append(td);
      }
      return tr;
    });
    if (!out.length) out.push(emptyRow(columns.length, empty));
    body.replaceChildren(...out);
  }

  render();
  return {
    /** Sort by `key` (a column's), descending or not, as a click on its header would. */
    sortBy(key, desc) {
      if (!columns.some((c) => c.key === key)) return;
      state.key = key;
      state.desc = Boolean(desc);
      render();
    },
    setRows(rows) {
      state.rows = rows || [];
      render();
    },
    /** A footer row (e.g. every endpoint together) that sorting leaves in place; null removes it. */
    setTotal(row, label) {
      if (table.tFoot) table.tFoot.remove();
      if (!row) return;
      const tr = table.createTFoot().insertRow();
      columns.forEach((column, i) => {
        const cell = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) cell.scope = "row";
        if (column.numeric) cell.className = "num";
        cell.dataset.key = column.key;
        cell.textContent = i === 0 ? label : row[column.key] === undefined ? "" : cellText(column, row);
        tr.append(cell);
      });
    },
    /** Say why there are no rows (a failed call), instead of "no data yet". */
    showMessage(text) {
      state.rows = [];
      body.replaceChildren(emptyRow(columns.length, text));
    },
    get rows() {
      return state.rows;
    },
  };
}

/**
 * A live table body: `.add(items)` puts new rows on top (by `idKey`, updating rows it already
 * shows), keeps at most `max`, and flashes the new ones; `.replace(items)` starts over. With
 * `order(item)` (a number, higher = newer) a row goes to its place instead of the top, so one
 * that arrives late never sits above newer ones.
 */
export function liveRows(tbody, columns, { idKey = "id", max = 20, empty = "No data yet", order = null } = {}) {
  const byId = new Map();

  function place(tr, item) {
    if (!order) {
      tbody.prepend(tr);
      return;
    }
    tr.dataset.order = String(order(item));
    const rank = Number(tr.dataset.order);
    const next = [...tbody.rows].find((row) => row.dataset.order !== undefined && Number(row.dataset.order) < rank);
    tbody.insertBefore(tr, next || null);
  }

  function rowFor(item) {
    const tr = document.createElement("tr");
    tr.dataset.id = String(item[idKey]);
    for (const column of columns) {
      const td = document.createElement("td");
      if (column.numeric) td.className = "num";
      if (column.badge) {
        const span = document.createElement("span");
        span.className = `pill pill-${String(item[column.key] || "").toLowerCase()}`;
        span.textContent = cellText(column, item);
        td.append(span);
      } else if (column.href && column.href(item)) {
        td.append(Object.assign(document.createElement("a"), { href: column.href(item), textContent: cellText(column, item) }));
      } else {
        td.textContent = cellText(column, item);
      }
      tr.append(td);
    }
    return tr;
  }

  function showEmpty() {
    if (byId.size) return;
    tbody.replaceChildren(emptyRow(columns.length, empty));
  }

  function add(items, flash = true) {
    const placeholder = tbody.querySelector(".empty-row");
    if (placeholder && items.length) placeholder.remove();
    // Oldest first, so the newest ends on top.
    for (const item of [...items].reverse()) {
      const key = String(item[idKey]);
      const fresh = rowFor(item);
      if (flash) fresh.classList.add("flash-new");
      const old = byId.get(key);
      if (old && !order) old.replaceWith(fresh);
      else {
        if (old) old.remove();
        place(fresh, item);
      }
      byId.set(key, fresh);
    }
    while (byId.size > max) {
      const last = tbody.lastElementChild;
      byId.delete(last.dataset.id);
      last.remove();
    }
    showEmpty();
  }

  showEmpty();
  return {
    add,
    replace(items) {
      byId.clear();
      tbody.replaceChildren();
      add(items, false);
      showEmpty();
    },
    get size() {
      return byId.size;
    },
  };
}
