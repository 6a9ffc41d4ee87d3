// Per-widget settings in edit mode: the widget's JSON (title, queries, options: unit, format,
// decimals, thresholds with colours, target) in a dialog. The server checks it whole on save
// (and on the preview batch), naming the field it refuses.
const TEMPLATES = {
  metric_card: { queries: [{ metric: "orders", agg: "sum", group_by: [], reduce: "sum", range: "today" }], options: {} },
  kpi: { queries: [{ metric: "revenue_cents", agg: "sum", reduce: "sum", range: "today" }], options: { format: "money", target: 100000 } },
  progress: { queries: [{ metric: "orders", agg: "sum", group_by: [], reduce: "sum", range: "today" }], options: { target: 100 } },
  gauge: { queries: [{ metric: "cpu_percent", agg: "avg", reduce: "last", range: "15m" }],
    options: { format: "percent", max: 100, thresholds: [{ value: 0, color: "#1f9d55" }, { value: 80, color: "#d43c3c" }] } },
  sparkline: { queries: [{ metric: "http_requests_per_minute", agg: "sum", group_by: [], step: "1m", range: "1h", reduce: "last" }], options: {} },
  line: { queries: [{ metric: "revenue_cents", agg: "sum", step: "1h", range: "24h" }], options: { format: "money" } },
  bar: { queries: [{ metric: "orders", agg: "sum", group_by: [], step: "1h", range: "24h" }], options: {} },
  pie: { queries: [{ kind: "panel", panel: "customer_segments", range: "today" }], options: {} },
  table: { queries: [{ kind: "panel", panel: "top_customers", range: "7d", limit: 10 }], options: {} },
  heatmap: { queries: [{ kind: "panel", panel: "activity_heatmap", range: "28d" }], options: {} },
};

/** A new widget of `type` placed below the others. */
export function widgetTemplate(type, row) {
  const id = `${type}-${Date.now().toString(36)}`;
  const big = ["line", "bar", "table", "heatmap"].includes(type);
  return { id, type, title: type.replace("_", " "), gridPos: { x: 0, y: row, w: big ? 6 : 3, h: big ? 4 : 2 },
    ...JSON.parse(JSON.stringify(TEMPLATES[type])) };
}

/** Open the settings dialog for `widget`; `apply(changed)` gets the edited widget. */
export function editorDialog(widget, apply) {
  const dialog = document.getElementById("widget-dialog");
  const text = dialog.querySelector("textarea");
  const error = dialog.querySelector(".field-error");
  const { id, gridPos, ...editable } = widget;
  text.value = JSON.stringify(editable, null, 2);
  error.textContent = "";
  dialog.querySelector("form").onsubmit = (event) => {
    event.preventDefault();
    let changed;
    try {
      changed = JSON.parse(text.value);
    } catch (err) {
      error.textContent = `Not JSON: ${err.message}`;
      text.setAttribute("aria-invalid", "true");
      return;
    }
    text.removeAttribute("aria-invalid");
    dialog.close();
    apply({ ...changed, id, gridPos });
  };
  dialog.querySelector("[data-action=cancel]").onclick = () => dialog.close();
  dialog.showModal();
}
