// The top bar's search box: order ids, customer ids, products, alerts and log text, grouped by kind. Arrow
// keys move through the hits, Enter opens the selected one (the first when none is), Escape closes.
import { api, withQuery } from "./api.js";
import { el } from "./dom.js";

const form = document.getElementById("top-search");
const input = document.getElementById("top-search-q");
const box = document.getElementById("top-search-results");
const DEBOUNCE_MS = 200;
let timer = null;
let ticket = 0;
let selected = -1;

const hits = () => [...box.querySelectorAll("a[role=option]")];

function close() {
  box.hidden = true;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
  selected = -1;
}

function select(index) {
  const all = hits();
  if (!all.length) return;
  selected = (index + all.length) % all.length;
  all.forEach((a, i) => a.setAttribute("aria-selected", String(i === selected)));
  input.setAttribute("aria-activedescendant", all[selected].id);
  all[selected].scrollIntoView({ block: "nearest" });
}

function show(body) {
  let n = 0;
  const parts = body.groups.flatMap((g) => [el("h3", { text: g.label, id: `search-group-${g.kind}` }),
    ...g.hits.map((h) => el("a", { href: h.href, role: "option", id: `search-hit-${n++}`, "aria-selected": "false",
      "data-kind": g.kind }, h.title, el("small", { text: h.detail })))]);
  box.replaceChildren(...(parts.length ? parts : [el("p", { text: `Nothing found for \u201c${body.q}\u201d` })]));
  box.hidden = false;
  input.setAttribute("aria-expanded", "true");
  selected = -1;
}

async function run() {
  const q = input.value.trim();
  if (q.length < 2) {
    close();
    return;
  }
  const mine = ++ticket;
  try {
    const body = await api.get(withQuery("/admin/api/search", { q }), { quiet: true });
    if (mine === ticket) show(body);
  } catch (err) {
    if (mine === ticket) {
      box.replaceChildren(el("p", { text: err.message }));
      box.hidden = false;
    }
  }
}

if (form) {
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (box.hidden) return;
      select(selected + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Escape") close();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (box.hidden || !hits().length) {
      clearTimeout(timer);
      await run();
    }
    const target = hits()[Math.max(selected, 0)];
    if (target) location.assign(target.href);
  });
  document.addEventListener("click", (event) => {
    if (!form.contains(event.target)) close();
  });
  // "/" focuses the box from anywhere but a field.
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
      event.preventDefault();
      input.focus();
    }
  });
}
