// The Services page: every monitor's state, uptime and response times, kept current by the
// "monitor" socket event (re-dispatched by live.js as "live:monitor"); admins add and edit
// monitors in a dialog whose errors come from the server's validation (the field it names).
import { api } from "./api.js";
import { ago, ms, pct } from "./format.js";
import { distinctColors, makeChart, setData, wireTableToggles } from "./charts.js";
import { onPopState, readState, writeState } from "./url-state.js";

const root = document.getElementById("services-root");
const canEdit = root && root.dataset.canEdit === "true";
const tbody = document.querySelector("#monitors tbody");
const summary = document.getElementById("services-summary");
let monitors = [];
let asTable = false;
let editing = null;
let loaded = false; // the table says "No monitors yet" only once the list has come

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

/** An SVG polyline of the values (nulls skipped); empty when there is nothing to draw. */
function sparkline(values, width = 120, height = 28, cls = "svc-spark") {
  const points = values.map((v, i) => [i, v]).filter(([, v]) => typeof v === "number");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", cls);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  if (!points.length) { svg.setAttribute("aria-label", "no response times yet"); return svg; }
  const max = Math.max(...points.map(([, v]) => v)) || 1;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", points.map(([i, v]) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(" "));
  svg.setAttribute("aria-label", `response time, hourly average, up to ${ms(max)}`);
  svg.append(line);
  return svg;
}

function sparkCell(m) {
  const hourly = m.hourly || [];
  if (asTable) {
    const t = el("table", { class: "svc-spark-table" });
    for (const [start, avg, up] of hourly.slice(-6)) {
      t.append(el("tr", {}, el("td", { text: new Date(start).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }),
        el("td", { class: "num", text: ms(avg) }), el("td", { class: "num", text: pct(up) })));
    }
    return hourly.length ? t : document.createTextNode("—");
  }
  return sparkline(hourly.map(([, avg]) => avg));
}

function row(m) {
  const tr = el("tr", { "data-id": String(m.id), "data-status": m.status });
  const name = el("button", { type: "button", class: "link-button", text: m.name });
  name.addEventListener("click", () => {
    writeState({ monitor: m.id }, { push: true });
    showDetail(m.id);
  });
  const labels = Object.entries(m.labels || {}).map(([k, v]) => `${k}=${v}`).join(" ");
  tr.append(
    el("td", {}, name, el("div", { class: "muted", text: `${m.kind}${labels ? " · " + labels : ""}` })),
    el("td", {}, el("span", { class: "svc-state", "data-status": m.status, text: m.status })),
    el("td", { text: m.state_since ? ago(m.state_since) : "—" }),
    el("td", { class: "num", text: pct(m.uptime_24h) }),
    el("td", { class: "num", text: pct(m.uptime_7d) }),
    el("td", { class: "num", text: pct(m.uptime_30d) }),
    el("td", {}, sparkCell(m),
      el("div", { class: "muted svc-pct", text: m.p50_ms_24h != null ? `p50 ${ms(m.p50_ms_24h)} · p95 ${ms(m.p95_ms_24h)}` : "" }),
      el("div", { class: "muted", text: m.last_latency_ms != null ? `last ${ms(m.last_latency_ms)}` : "" })),
    el("td", { class: "svc-error", text: m.last_error ? `${m.last_error} (${ago(m.last_error_at)})` : "—" }),
  );
  const actions = el("td");
  if (canEdit) {
    const pause = el("button", { type: "button", class: "btn btn-small", "data-action": "pause", text: m.paused ? "Resume" : "Pause" });
    pause.addEventListener("click", async () => {
      await api.post(`/admin/api/monitors/${m.id}/pause`, { paused: !m.paused });
      load();
    });
    const edit = el("button", { type: "button", class: "btn btn-small", "data-action": "edit", text: "Edit" });
    edit.addEventListener("click", () => openForm(m));
    const del = el("button", { type: "button", class: "btn btn-small", "data-action": "delete", text: "Delete" });
    del.addEventListener("click", async () => {
      if (!window.confirm(`Delete the monitor ${m.name} and its results?`)) return;
      await api.del(`/admin/api/monitors/${m.id}`);
      load();
    });
    actions.append(pause, " ", edit, " ", del);
  }
  tr.append(actions);
  return tr;
}

function render() {
  tbody.replaceChildren();
  if (!monitors.length) {
    tbody.append(el("tr", {}, el("td", { class: "empty-cell", colspan: "9", text: canEdit ? "No monitors yet: add one." : "No monitors yet." })));
  }
  for (const m of monitors) tbody.append(row(m));
  const down = monitors.filter((m) => m.status === "down");
  const up = monitors.filter((m) => m.status === "up" || m.status === "degraded").length;
  summary.textContent = `${up} up, ${down.length} down of ${monitors.length}` +
    (down.length ? ` — down: ${down.map((m) => m.name).join(", ")}` : "");
}

async function load() {
  try {
    monitors = (await api.get("/admin/api/monitors", { quiet: true })).monitors;
    loaded = true;
    render();
  } catch (err) {
    summary.textContent = `Could not load the monitors: ${err.message}`;
  }
}

let latencyChart = null;

function detailChart() {
  if (latencyChart) return latencyChart;
  latencyChart = makeChart("monitor-latency", {
    type: "line",
    data: { labels: [], datasets: ["average", "p50", "p95"].map((label) => ({ label, data: [], spanGaps: true })) },
    options: { interaction: { mode: "index", intersect: false }, scales: { y: { beginAtZero: true, title: { display: true, text: "ms" } } } },
  }, (c, colors) => {
    const palette = distinctColors(c.data.datasets.length, colors.palette);
    c.data.datasets.forEach((ds, i) => { ds.borderColor = palette[i]; ds.backgroundColor = palette[i]; });
  });
  latencyChart.$labelHeader = "Hour";
  latencyChart.$formatValue = (v) => (v === null || v === undefined ? "—" : ms(v));
  return latencyChart;
}

async function showDetail(id) {
  const box = document.getElementById("monitor-detail");
  const { monitor } = await api.get(`/admin/api/monitors/${id}`);
  // Back/forward (or another click) may have moved on while this was asked: a late answer must
  // not reopen a detail the address no longer names.
  if (readState(["monitor"]).monitor !== String(id)) return;
  box.hidden = false;
  box.dataset.monitorId = String(monitor.id);
  document.getElementById("title-detail").textContent = `${monitor.name}: ${monitor.status}`;
  document.getElementById("detail-figures").textContent = monitor.p50_ms_24h != null
    ? `Last 24 h: p50 ${ms(monitor.p50_ms_24h)}, p95 ${ms(monitor.p95_ms_24h)}, ${monitor.checks_24h} checks`
    : "No response times in the last 24 h.";
  const hourly = monitor.hourly || [];
  const chart = detailChart();
  setData(chart, hourly.map((b) => new Date(b.start).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })),
    [hourly.map((b) => b.avg_ms), hourly.map((b) => b.p50_ms), hourly.map((b) => b.p95_ms)]);
  const body = document.querySelector("#detail-events tbody");
  body.replaceChildren(...(monitor.events.length ? monitor.events.map((e) => el("tr", { "data-to": e.to },
    el("td", { text: new Date(e.at).toLocaleString() }), el("td", { text: e.from }), el("td", { text: e.to }),
    el("td", { class: "svc-error", text: e.error || "—" }), el("td", { text: e.alerted ? "yes" : "no" })))
    : [el("tr", {}, el("td", { class: "empty-cell", colspan: "5", text: "No state changes yet." }))]));
}

// --- the form -------------------------------------------------------------------------------

const dialog = document.getElementById("monitor-dialog");
const form = document.getElementById("monitor-form");

function showKind() {
  const kind = form.elements.kind.value;
  for (const box of form.querySelectorAll("[data-kinds]")) box.hidden = !box.dataset.kinds.split(" ").includes(kind);
}

function clearErrors() {
  form.querySelectorAll(".field-error").forEach((n) => n.remove());
  const top = document.getElementById("form-error");
  top.hidden = true;
  top.textContent = "";
}

function openForm(m = null) {
  editing = m;
  form.reset();
  clearErrors();
  document.getElementById("monitor-dialog-title").textContent = m ? `Edit ${m.name}` : "Add monitor";
  const parent = form.elements.parent_id;
  parent.replaceChildren(el("option", { value: "", text: "none" }),
    ...monitors.filter((o) => !m || o.id !== m.id).map((o) => el("option", { value: String(o.id), text: o.name })));
  if (m) {
    for (const key of ["name", "kind", "url", "method", "keyword", "json_path", "host", "port", "grace_seconds",
      "max_response_ms", "interval_seconds", "timeout_seconds", "failure_threshold", "recovery_threshold", "tls_days_min"]) {
      if (form.elements[key] && m[key] != null) form.elements[key].value = String(m[key]);
    }
    if (m.kind === "redis") { form.elements.url_redis.value = m.url || ""; form.elements.url.value = ""; }
    form.elements.expected_status.value = (m.expected_status || []).map(([lo, hi]) => lo === hi ? `${lo}` : `${lo}-${hi}`).join(", ");
    if (m.json_expected != null) form.elements.json_expected.value = String(m.json_expected);
    form.elements.parent_id.value = m.parent_id ? String(m.parent_id) : "";
    form.elements.label_service.value = (m.labels || {}).service || "";
    form.elements.label_team.value = (m.labels || {}).team || "";
  }
  form.elements.kind.disabled = Boolean(m);
  showKind();
  dialog.showModal();
}

const NUMBERS = ["port", "grace_seconds", "max_response_ms", "interval_seconds", "timeout_seconds",
  "failure_threshold", "recovery_threshold", "tls_days_min"];
const BY_KIND = { http: ["url", "method", "expected_status", "keyword", "json_path", "json_expected", "tls_days_min", "max_response_ms"],
  tcp: ["host", "port", "max_response_ms"], push: ["grace_seconds"], database: ["max_response_ms"], redis: ["max_response_ms"] };

function collect() {
  const f = form.elements;
  const kind = f.kind.value;
  const body = { name: f.name.value, kind };
  for (const key of ["interval_seconds", "timeout_seconds", "failure_threshold", "recovery_threshold", ...BY_KIND[kind]]) {
    const raw = f[key].value.trim();
    if (raw === "") continue;
    body[key] = NUMBERS.includes(key) && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  }
  if (kind === "redis" && f.url_redis.value.trim()) body.url = f.url_redis.value.trim();
  body.parent_id = f.parent_id.value ? Number(f.parent_id.value) : null;
  const labels = {};
  if (f.label_service.value.trim()) labels.service = f.label_service.value.trim();
  if (f.label_team.value.trim()) labels.team = f.label_team.value.trim();
  body.labels = labels;
  if (editing) delete body.kind;
  return body;
}

function showError(err) {
  const field = err.body && err.body.error && err.body.error.field;
  const input = field && (form.elements[field] || (field === "url" && form.elements.url_redis));
  if (input) {
    input.closest("label").append(el("span", { class: "field-error", role: "alert", text: err.message }));
    input.focus();
  } else {
    const top = document.getElementById("form-error");
    top.textContent = err.message;
    top.hidden = false;
  }
}

if (canEdit && form) {
  document.getElementById("monitor-new").addEventListener("click", () => openForm());
  document.getElementById("monitor-cancel").addEventListener("click", () => dialog.close());
  form.elements.kind.addEventListener("change", showKind);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    try {
      if (editing) await api.put(`/admin/api/monitors/${editing.id}`, collect(), { quiet: true });
      else await api.post("/admin/api/monitors", collect(), { quiet: true });
      dialog.close();
      load();
    } catch (err) {
      showError(err);
    }
  });
}

const sparkToggle = document.getElementById("spark-toggle");

function showAsTable(on) {
  asTable = on;
  sparkToggle.setAttribute("aria-pressed", String(asTable));
  sparkToggle.textContent = asTable ? "Show as chart" : "Show as table";
  if (loaded) render();
}

function hideDetail() {
  document.getElementById("monitor-detail").hidden = true;
}

/** The view in the address: the opened monitor (`monitor`) and the response times as a table (`view=table`). */
function restore() {
  const view = readState(["monitor", "view"]);
  showAsTable(view.view === "table");
  if (/^\d+$/.test(view.monitor || "")) showDetail(view.monitor).catch(hideDetail);
  else hideDetail();
}

sparkToggle.addEventListener("click", () => {
  showAsTable(!asTable);
  writeState({ view: asTable ? "table" : "" }, { push: true });
});
wireTableToggles();
document.getElementById("detail-close").addEventListener("click", () => {
  hideDetail();
  writeState({ monitor: "" }, { push: true });
});
onPopState(restore);

// A state change: update that row at once, then reload for fresh uptime figures.
document.addEventListener("live:monitor", (event) => {
  const d = event.detail || {};
  const tr = tbody.querySelector(`tr[data-id="${d.id}"]`);
  if (tr && d.status) {
    tr.dataset.status = d.status;
    const badge = tr.querySelector(".svc-state");
    badge.dataset.status = d.status;
    badge.textContent = d.status;
  }
  load();
});
document.addEventListener("live:refresh", load);
// A monitor that changed before the page joined the live room sent its event elsewhere.
document.addEventListener("live:joined", load);
load();
restore();
