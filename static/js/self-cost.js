// Performance page: what the monitor itself costs (request timer, scheduler tick, sampler CPU,
// memory), and a banner while a slow tick has widened the update interval.
import { api } from "./api.js";
import { count, isNum, ms, plural } from "./format.js";

const REFRESH_MS = 10000;
const box = document.getElementById("self-cost");
const banner = document.getElementById("self-cost-banner");

function put(key, text) {
  for (const el of document.querySelectorAll(`[data-cost="${key}"]`)) el.textContent = text;
}

function mb(bytes) {
  return isNum(bytes) ? `${(bytes / 1048576).toFixed(1)} MB` : "—";
}

function micro(ns) {
  return isNum(ns) ? `${(ns / 1000).toFixed(1)} µs` : "—";
}

// "12 (3 users) · 40 in 2 processes · at most 20 per user": this process first, the whole
// deployment when other processes published their counts (Redis).
function socketsText(sockets) {
  if (!sockets || !sockets.this_process) return "—";
  const here = sockets.this_process;
  let text = `${count(here.connected)} (${count(here.users)} ${here.users === 1 ? "user" : "users"})`;
  if (sockets.processes.length > 1) {
    text += ` · ${count(sockets.total)} in ${sockets.processes.length} processes`;
  }
  return `${text} · at most ${count(sockets.per_user_limit)} per user`;
}

function show(data) {
  const timer = data.timer;
  const folded = timer && isNum(timer.fold_ns_per_request) ? ` + ${micro(timer.fold_ns_per_request)} folded later` : "";
  // Each figure says what it covers: the mean and max are of the most recent samples and ticks.
  put("timer", timer ? `${micro(timer.mean_ns)} mean${folded}, ${micro(timer.max_ns)} max `
    + `(last ${count(timer.window)} of ${count(timer.samples)} sampled requests)` : "no request sampled yet");
  const tick = data.tick;
  put("tick", tick ? `${ms(tick.last_ms)} / ${ms(tick.mean_ms)} / ${ms(tick.max_ms)} (last ${count(tick.window)} ticks)`
    : "no tick yet in this process");
  put("cpu", isNum(data.sampler_cpu_share)
    ? `${(data.sampler_cpu_share * 100).toFixed(2)} %${tick ? ` (last ${count(tick.window)} ticks)` : ""}` : "—");
  put("rss", `${mb(data.rss_bytes)} · ${plural(data.threads, "thread")}`);
  const b = data.budget || {};
  put("interval", isNum(b.interval_s)
    ? (b.widened ? `${b.interval_s} s (widened from ${b.base_interval_s} s)` : `${b.interval_s} s`)
    : "scheduler not running in this process");
  put("sockets", socketsText(data.sockets));
  put("every", timer ? count(timer.sample_every) : "N");
  put("share", isNum(b.share) ? `${+(b.share * 100).toPrecision(2)} %` : "half");
  box.dataset.state = "ready";
  box.dataset.widened = String(Boolean(b.widened));
  banner.hidden = !data.message;
  banner.textContent = data.message || "";
}

async function load() {
  try {
    show(await api.get("/admin/api/self-cost", { quiet: true }));
  } catch (err) {
    box.dataset.state = "error";
  }
}

if (box && banner) {
  load();
  setInterval(load, REFRESH_MS);
  document.addEventListener("live:refresh", load);
}
