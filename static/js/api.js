// Shared helpers for every page: JSON calls to /admin/api with the CSRF header, and toasts.
//
//   import { api, toast } from "/static/js/api.js";
//   const data = await api.get("/admin/api/metrics/live");
//   await api.post("/admin/api/alerts/3/acknowledge", { note: "on it" });
//
// A call that fails (network down, or an answer `{"error": {"code", "message"}}`) rejects with an
// ApiError and shows an error toast, unless `{ quiet: true }` is passed. Classic (non-module)
// scripts can use the same functions through `window.panel.api` / `window.panel.toast`.

import { checkSession, endSession, sessionEnded } from "./session.js";

const TOAST_MS = 6000;
const MAX_TOASTS = 4;

/** An API call that did not succeed: `status` 0 means the server could not be reached. */
export class ApiError extends Error {
  constructor(message, status = 0, code = "network_error", body = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** The CSRF token every page carries in <meta name="csrf-token">. */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

/** Show a short message in the #toasts container; kind is "info", "success", "warning" or "error". */
export function toast(message, kind = "info", timeout = TOAST_MS) {
  const box = document.getElementById("toasts");
  if (!box) return null;
  // A message already on screen (e.g. several calls failing at once) shows once.
  const same = [...box.children].find((item) => item.dataset.message === message);
  if (same) return same;
  while (box.children.length >= MAX_TOASTS) box.firstElementChild.remove();
  const item = document.createElement("div");
  item.className = `toast toast-${kind}`;
  item.dataset.message = message;
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  const text = document.createElement("span");
  text.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  close.addEventListener("click", () => item.remove());
  item.append(text, close);
  box.append(item);
  if (timeout > 0) setTimeout(() => item.remove(), timeout);
  return item;
}

async function request(method, path, body, options = {}) {
  // The session is gone: the page says so once (session.js); nothing more to ask or report.
  if (sessionEnded()) throw new ApiError("Your session has ended.", 401, "unauthorized");
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET") {
    headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
  }
  if (options.signal) init.signal = options.signal;
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    const error = new ApiError("Could not reach the server. Check the connection and try again.");
    if (!options.quiet) toast(error.message, "error");
    throw error;
  }
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("application/json")) {
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
  }
  if (response.ok && data && !data.error) return data;
  if (response.ok && data === null && response.status === 204) return {};
  const info = (data && data.error) || {};
  const message = info.message || `The server answered ${response.status} ${response.statusText}`.trim();
  const error = new ApiError(message, response.status, info.code || "http_error", data);
  if (response.status === 401) {
    endSession();
    throw error;
  }
  // A logout elsewhere also voids the CSRF token: a refused write may mean the session ended.
  if (info.code === "csrf_failed" && !(await checkSession())) throw error;
  if (!options.quiet) toast(message, "error");
  throw error;
}

/** Build `path?key=value&...`, leaving out null/undefined/empty values. */
export function withQuery(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

/**
 * A filter form's values: trimmed text fields, and datetime-local fields (the user's local time)
 * as ISO instants; empty fields are left out.
 */
export function formFilters(form, textKeys, timeKeys = ["since", "until"]) {
  const data = new FormData(form);
  const out = {};
  for (const key of textKeys) {
    const v = String(data.get(key) || "").trim();
    if (v) out[key] = v;
  }
  for (const key of timeKeys) {
    const v = data.get(key);
    if (v) out[key] = new Date(v).toISOString();
  }
  return out;
}

export const api = {
  get: (path, options) => request("GET", path, undefined, options),
  post: (path, body, options) => request("POST", path, body, options),
  put: (path, body, options) => request("PUT", path, body, options),
  del: (path, body, options) => request("DELETE", path, body, options),
};

window.panel = Object.assign(window.panel || {}, { api, toast, withQuery, ApiError });
