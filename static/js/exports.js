// Exports page: ask for a signed link, then download it while showing how far it got.
// The server streams CSV and JSON as it reads them and prepares Excel files first, so the bar
// is indeterminate until the first bytes (or the size, for Excel) arrive.
import { api, toast } from "./api.js";
import { fmt } from "./format.js";
import { onPopState, readState, writeState } from "./url-state.js";

const form = document.getElementById("export-form");
const typeSel = document.getElementById("x-type");
const periodLabel = document.getElementById("x-period-label");
const submit = document.getElementById("x-submit");
const box = document.getElementById("x-progress");
const statusEl = document.getElementById("x-status");
const bar = document.getElementById("x-bar");
const history = document.getElementById("x-history").tBodies[0];

const DAY = 86400000;

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function progress(text, value = null) {
  box.hidden = false;
  statusEl.textContent = text;
  if (value === null) bar.removeAttribute("value");
  else bar.value = value;
}

function addHistory(link, bytes) {
  const empty = history.querySelector(".empty-row");
  if (empty) empty.remove();
  const tr = document.createElement("tr");
  const name = document.createElement("td");
  name.textContent = link.filename;
  const expires = document.createElement("td");
  expires.textContent = fmt.dateTime(link.expires_at);
  const sizeCell = document.createElement("td");
  sizeCell.textContent = bytes === null ? "—" : size(bytes);
  const linkCell = document.createElement("td");
  const a = document.createElement("a");
  a.href = link.url;
  a.textContent = "download again";
  a.setAttribute("download", link.filename);
  linkCell.append(a);
  tr.append(name, expires, sizeCell, linkCell);
  history.prepend(tr);
}

async function fetchFile(link) {
  progress(`Preparing ${link.filename}…`);
  const response = await fetch(link.url, { credentials: "same-origin" });
  if (!response.ok) {
    let message = `The server answered ${response.status}`;
    try {
      const body = await response.json();
      if (body.error && body.error.message) message = body.error.message;
    } catch (err) {
      // not JSON: keep the status line
    }
    throw new Error(message);
  }
  const total = Number(response.headers.get("Content-Length")) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    if (total) progress(`Downloading ${link.filename}: ${size(received)} of ${size(total)}`, (received / total) * 100);
    else progress(`Downloading ${link.filename}: ${size(received)} so far`);
  }
  const blob = new Blob(chunks, { type: response.headers.get("Content-Type") || "application/octet-stream" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = link.filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return received;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const start = new Date(`${data.get("start")}T00:00:00Z`);
  const lastDay = new Date(`${data.get("end")}T00:00:00Z`);
  if (!(lastDay >= start)) {
    toast("The end date must not be before the start date.", "error");
    return;
  }
  const body = {
    data_type: data.get("data_type"),
    format: data.get("format"),
    start: start.toISOString(),
    end: new Date(lastDay.getTime() + DAY).toISOString(), // the end day is included
  };
  if (body.data_type === "revenue" || body.data_type === "all") { // the ZIP holds revenue too
    body.period = data.get("period");
    body.tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  }
  submit.disabled = true;
  form.setAttribute("aria-busy", "true");
  let link = null;
  try {
    link = await api.post("/admin/api/export", body);
    const bytes = await fetchFile(link);
    progress(`Done: ${link.filename} (${size(bytes)})`, 100);
    addHistory(link, bytes);
  } catch (err) {
    progress(`Export failed: ${err.message}`, 0);
    if (link) toast(err.message, "error");
  } finally {
    submit.disabled = false;
    form.removeAttribute("aria-busy");
  }
});

// The form's choices live in the address, so back/forward and a pasted link show the same form.
const fields = { type: typeSel, format: document.getElementById("x-format"), start: document.getElementById("x-start"),
  end: document.getElementById("x-end"), period: document.getElementById("x-period") };
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function showPeriod() {
  periodLabel.hidden = typeSel.value !== "revenue";
}

/** Put the address's choices in the form (values the form cannot hold are ignored). */
function restore() {
  const view = readState(Object.keys(fields));
  for (const [key, input] of Object.entries(fields)) {
    const value = view[key];
    if (value === undefined) continue;
    if (input.tagName === "SELECT" ? [...input.options].some((o) => o.value === value) : DATE.test(value)) input.value = value;
  }
  showPeriod();
}

function save(push) {
  writeState(Object.fromEntries(Object.entries(fields).map(([key, input]) => [key, input.value])), { push });
}

for (const input of Object.values(fields)) {
  input.addEventListener("change", () => {
    showPeriod();
    save(true);
  });
}

const today = new Date();
fields.end.value = isoDay(today);
fields.start.value = isoDay(new Date(today.getTime() - 6 * DAY));
restore();
save(false);
onPopState(restore);
