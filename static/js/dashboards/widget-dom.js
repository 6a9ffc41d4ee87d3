// The markup of one widget on the grid: a gridstack item holding a panel (title, tools, body).
// Charts get the shared chart-panel markup (canvas, states, "Show as table" box).
import { renderTable } from "../charts.js";
import { isChart } from "./renderers.js";

function node(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value);
  }
  el.append(...children.filter(Boolean));
  return el;
}

function states() {
  return [
    node("p", { class: "panel-state state-loading", role: "status", text: "Loading…" }),
    node("p", { class: "panel-state state-empty", text: "No data yet" }),
    node("p", { class: "panel-state state-error", text: "Could not load this widget. " }, node("span", { class: "panel-note" })),
  ];
}

function body(widget, panelId) {
  switch (widget.type) {
    case "metric_card":
    case "kpi":
    case "progress": {
      const parts = [node("p", { class: "widget-figure", text: "…" }), node("p", { class: "widget-caption muted" })];
      if (widget.type === "kpi") parts.push(node("p", { class: "kpi-target" }));
      if (widget.type === "progress") {
        parts.push(node("div", { class: "progress-track", role: "progressbar", "aria-label": widget.title },
          node("div", { class: "progress-bar" })), node("p", { class: "progress-note muted" }));
      }
      return node("div", { class: "widget-body figure-body" }, ...parts, ...states());
    }
    case "table":
      return node("div", { class: "widget-body" }, node("div", { class: "table-scroll" }), ...states());
    case "heatmap":
      return node("div", { class: "widget-body heatmap-box" },
        node("div", { class: "heatmap", id: panelId, role: "img", "aria-label": `${widget.title}: activity by weekday and hour` }), ...states());
    default: {
      const extra = widget.type === "gauge" ? node("p", { class: "gauge-value" })
        : widget.type === "sparkline" ? node("p", { class: "spark-value" }) : null;
      return node("div", { class: `widget-body chart-box widget-${widget.type}` }, extra,
        node("canvas", { id: `chart-${panelId}`, role: "img", "aria-label": widget.title }), ...states());
    }
  }
}

function toggleTable(button, panelId) {
  const box = document.getElementById(`table-${panelId}`);
  const canvas = document.getElementById(`chart-${panelId}`);
  const show = box.hidden;
  box.hidden = !show;
  button.setAttribute("aria-pressed", String(show));
  button.textContent = show ? "Show as chart" : "Show as table";
  button.closest(".chart-panel").classList.toggle("as-table", show);
  if (show && canvas && canvas.chart) renderTable(canvas.chart);
  else if (show && typeof box.$render === "function") box.$render();
}

const MOVES = [["left", "←", "Move left"], ["up", "↑", "Move up"], ["down", "↓", "Move down"], ["right", "→", "Move right"],
  ["narrower", "−", "Make narrower"], ["wider", "+", "Make wider"]];

/** A grid item for `widget`; `onMove(widgetId, direction)` and `onEdit/onRemove(widgetId)` are the edit-mode tools. */
export function widgetItem(widget, { onMove, onEdit, onRemove }) {
  const panelId = `w-${widget.id}`;
  const tools = node("div", { class: "panel-tools" });
  if (isChart(widget.type)) {
    const button = node("button", { type: "button", class: "btn btn-small table-toggle", "aria-pressed": "false",
      "aria-controls": `table-${panelId}`, text: "Show as table" });
    button.addEventListener("click", () => toggleTable(button, panelId));
    tools.append(button);
  }
  const editTools = node("div", { class: "edit-tools", role: "group", "aria-label": `Arrange ${widget.title}` });
  for (const [dir, label, title] of MOVES) {
    const b = node("button", { type: "button", class: "btn btn-small", "data-move": dir, "aria-label": `${title}: ${widget.title}`, title, text: label });
    b.addEventListener("click", () => onMove(widget.id, dir));
    editTools.append(b);
  }
  const edit = node("button", { type: "button", class: "btn btn-small", "data-action": "edit", text: "Settings" });
  edit.addEventListener("click", () => onEdit(widget.id));
  const remove = node("button", { type: "button", class: "btn btn-small", "data-action": "remove", text: "Remove" });
  remove.addEventListener("click", () => onRemove(widget.id));
  editTools.append(edit, remove);
  const panel = node("section", { class: "grid-stack-item-content card chart-panel widget", "data-chart": panelId,
    "data-state": "loading", "data-type": widget.type, "data-widget": widget.id, tabindex: "0",
    "aria-labelledby": `title-${panelId}` },
  node("header", { class: "panel-head" }, node("h2", { id: `title-${panelId}`, text: widget.title }), tools),
  editTools, body(widget, panelId),
  isChart(widget.type) ? node("div", { class: "chart-table", id: `table-${panelId}`, hidden: "" }) : null);
  const g = widget.gridPos;
  const item = node("div", { class: "grid-stack-item", "gs-id": widget.id, "gs-x": String(g.x), "gs-y": String(g.y),
    "gs-w": String(g.w), "gs-h": String(g.h) }, panel);
  return { item, panel };
}
