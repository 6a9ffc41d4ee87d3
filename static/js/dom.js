// Small DOM helpers shared by the pages that build rows and dialogs in script.
// Text only: nothing from the server is ever parsed as HTML.

/** `el("td", {class: "num", text: "3"}, child…)`: attributes, `on*` listeners, children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Replace a table body with one row saying why it is empty. */
export function emptyBody(tbody, colspan, text) {
  tbody.replaceChildren(el("tr", {}, el("td", { class: "empty-cell", colspan, text })));
}
