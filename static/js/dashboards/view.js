// One dashboard on a 12-column grid (gridstack.js): view mode by default, an edit mode for admins
// (drag, drop, resize, and keyboard moves: focus a widget, arrows move it, Shift+arrows resize
// it), one column under 600 px. Widget data comes in one batched request and is fetched again
// on every live_update tick (a public link, without a socket, every tick's interval).
import { api, toast } from "../api.js";
import { render } from "./renderers.js";
import { widgetItem } from "./widget-dom.js";
import { editorDialog, widgetTemplate } from "./editor.js";

const GridStack = window.GridStack;
const root = document.getElementById("dash-root");
const gridEl = document.getElementById("dash-grid");
const publicUrl = root.dataset.dataUrl || null;
const canEdit = root.dataset.canEdit === "true";
const state = { dashboard: null, widgets: new Map(), panels: new Map(), grid: null, loading: null, again: false, dirty: false,
  tick: null, tickSeconds: 0 };

function status(text) {
  const meta = document.getElementById("dash-meta");
  if (meta) meta.textContent = text;
}

async function fetchData() {
  if (publicUrl) {
    const response = await fetch(publicUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(response.status === 404 ? "This link no longer works." : `HTTP ${response.status}`);
    return response.json();
  }
  return api.post("/admin/api/widgets/query", { dashboard: Number(root.dataset.id) }, { quiet: true });
}

/** Note which live tick the drawn results belong to (the server shares them per tick). */
function noteTick(body) {
  state.tick = Number.isInteger(body.tick) ? body.tick : null;
  state.tickSeconds = Number(body.tick_seconds) || 0;
}

/** Whether a live_update was stamped in the tick the drawn results come from: asking again would
 * draw the same figures (the update sent on joining the live room, right after the page loaded). */
function sameTick(update) {
  const at = Date.parse((update && update.timestamp) || "");
  return state.tick !== null && state.tickSeconds > 0 && Number.isFinite(at)
    && Math.floor(at / 1000 / state.tickSeconds) <= state.tick;
}

function draw(results) {
  for (const [id, panel] of state.panels) {
    const widget = state.widgets.get(id);
    if (!widget) continue;
    try {
      render(panel, widget, results[id]);
    } catch (err) {
      panel.dataset.state = "error";
      const note = panel.querySelector(".panel-note");
      if (note) note.textContent = err.message;
    }
  }
  root.dataset.loaded = String(Number(root.dataset.loaded || 0) + 1);
}

/** Fetch every widget's data in one request and draw it; overlapping ticks collapse into one. */
async function refresh() {
  if (state.loading) { state.again = true; return state.loading; }
  state.loading = (async () => {
    try {
      const body = await fetchData();
      if (publicUrl && !state.dashboard) build(body.dashboard);
      noteTick(body);
      draw(body.results || {});
      status(`Updated ${new Date().toLocaleTimeString()}`);
    } catch (err) {
      status(`Could not refresh: ${err.message}`);
    } finally {
      state.loading = null;
      if (state.again) { state.again = false; refresh(); }
    }
  })();
  return state.loading;
}

function addItem(widget) {
  const { item, panel } = widgetItem(widget, { onMove: move, onEdit: editWidget, onRemove: removeWidget });
  state.widgets.set(widget.id, widget);
  state.panels.set(widget.id, panel);
  panel.addEventListener("keydown", (event) => keyMove(event, widget.id));
  gridEl.append(item);
  state.grid.makeWidget(item);
  return item;
}

function build(dashboard) {
  state.dashboard = dashboard;
  document.getElementById("dash-title").textContent = dashboard.title;
  state.grid = GridStack.init({
    column: 12, cellHeight: 72, margin: 6, float: true, staticGrid: true, animate: false,
    columnOpts: { breakpoints: [{ w: 600, c: 1 }], breakpointForWindow: true },
    draggable: { handle: ".panel-head" },
  }, gridEl);
  state.grid.on("change", () => { state.dirty = true; });
  state.grid.batchUpdate();
  for (const widget of dashboard.widgets) addItem(widget);
  state.grid.batchUpdate(false);
  root.dataset.columns = String(state.grid.getColumn());
  state.grid.on("change", () => { root.dataset.columns = String(state.grid.getColumn()); });
  window.addEventListener("resize", () => { root.dataset.columns = String(state.grid.getColumn()); });
}

function nodeOf(id) {
  return state.grid.engine.nodes.find((n) => n.id === id);
}

function move(id, dir) {
  const n = nodeOf(id);
  if (!n) return;
  const cols = state.grid.getColumn();
  const to = { left: { x: Math.max(0, n.x - 1) }, right: { x: Math.min(cols - n.w, n.x + 1) }, up: { y: Math.max(0, n.y - 1) },
    down: { y: n.y + 1 }, narrower: { w: Math.max(1, n.w - 1) }, wider: { w: Math.min(cols - n.x, n.w + 1) },
    shorter: { h: Math.max(1, n.h - 1) }, taller: { h: n.h + 1 } }[dir];
  state.grid.update(n.el, to);
  state.dirty = true;
  const after = nodeOf(id);
  status(`${state.widgets.get(id).title}: column ${after.x + 1}, row ${after.y + 1}, ${after.w} wide, ${after.h} high`);
}

function keyMove(event, id) {
  if (!root.classList.contains("editing") || event.target !== state.panels.get(id)) return;
  const keys = event.shiftKey
    ? { ArrowLeft: "narrower", ArrowRight: "wider", ArrowUp: "shorter", ArrowDown: "taller" }
    : { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down" };
  if (!keys[event.key]) return;
  event.preventDefault();
  move(id, keys[event.key]);
  state.panels.get(id).focus();
}

function layout() {
  return [...state.widgets.values()].map((w) => {
    const n = nodeOf(w.id);
    return { ...w, gridPos: n ? { x: n.x, y: n.y, w: n.w, h: n.h } : w.gridPos };
  });
}

async function save() {
  try {
    const body = await api.put(`/admin/api/dashboards/${state.dashboard.id}`, { version: state.dashboard.version, widgets: layout() });
    state.dashboard = body.dashboard;
    state.dirty = false;
    toast("Dashboard saved", "success");
    setEditing(false);
    return true;
  } catch (err) {
    if (err.status === 409) status("Someone else saved this dashboard meanwhile: reload to see their version.");
    return false;
  }
}

function setEditing(on) {
  root.classList.toggle("editing", on);
  state.grid.setStatic(!on);
  const toggle = document.getElementById("dash-edit");
  toggle.setAttribute("aria-pressed", String(on));
  toggle.textContent = on ? "Cancel" : "Edit layout";
  for (const id of ["dash-save", "dash-add"]) document.getElementById(id).hidden = !on;
  if (!on && state.dirty) window.location.reload();
}

function editWidget(id) {
  editorDialog(state.widgets.get(id), (changed) => {
    const item = nodeOf(id).el;
    state.grid.removeWidget(item, true);
    state.panels.delete(id);
    addItem({ ...changed, id, gridPos: state.widgets.get(id).gridPos });
    state.dirty = true;
    refreshWith();
  });
}

function removeWidget(id) {
  state.grid.removeWidget(nodeOf(id).el, true);
  state.widgets.delete(id);
  state.panels.delete(id);
  state.dirty = true;
}

/** Draw new or changed widgets: their queries are not saved yet, so they run as a batch. */
async function refreshWith() {
  const widgets = [...state.widgets.values()];
  const queries = widgets.flatMap((w) => w.queries);
  try {
    const body = await api.post("/admin/api/widgets/query", { queries });
    let i = 0;
    const results = {};
    for (const w of widgets) { results[w.id] = body.results.slice(i, i + w.queries.length); i += w.queries.length; }
    draw(results);
  } catch (err) { /* the toast says why */ }
}

function wireEditing() {
  const bar = document.getElementById("dash-toolbar");
  if (!canEdit || !bar) return;
  bar.hidden = false;
  document.getElementById("dash-edit").addEventListener("click", () => setEditing(!root.classList.contains("editing")));
  document.getElementById("dash-save").addEventListener("click", save);
  document.getElementById("dash-add").addEventListener("click", () => {
    const type = document.getElementById("dash-add-type").value;
    editorDialog(widgetTemplate(type, state.grid.getRow()), (widget) => {
      addItem(widget);
      state.dirty = true;
      refreshWith();
    });
  });
}

async function start() {
  if (publicUrl) {
    await refresh();
    setInterval(refresh, Math.max(1, Number(root.dataset.interval || 5)) * 1000);
    return;
  }
  // The dashboard and its widgets' data in parallel: two requests, whatever the widget count.
  const early = window.__dashboardPrefetch || {};
  const [one, data] = await Promise.all([
    Promise.resolve(early.model).then((body) => body || api.get(`/admin/api/dashboards/${root.dataset.id}`)),
    Promise.resolve(early.data).then((body) => body || fetchData()),
  ]);
  build(one.dashboard);
  wireEditing();
  noteTick(data);
  draw(data.results || {});
  status(`Updated ${new Date().toLocaleTimeString()}`);
  document.addEventListener("live:update", (event) => {
    if (!root.classList.contains("editing") && !sameTick(event.detail)) refresh();
  });
  document.addEventListener("live:refresh", () => refresh());
}

window.panel = Object.assign(window.panel || {}, { dashboard: { state, refresh, move, save } });
start().catch((err) => status(`Could not load this dashboard: ${err.message}`));
