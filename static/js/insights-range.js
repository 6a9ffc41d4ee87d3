// The Revenue page's range and bucket-size controls, read by the Customers and Channels sections,
// so every section of the page shows the same dates and the same hourly/daily/weekly toggle.
import { TZ, dateInputValue, fmt, toDate, zonedTime, zoneParts } from "./format.js";

const FEED_RELOAD_MS = 30000;
// Range captions sit under every card: the short form ("Nov 18"), the year only when not this one.
const SHORT_DAY = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: TZ });
const SHORT_DAY_YEAR = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", timeZone: TZ });

export const LABEL = {
  hourly: (v) => fmt.dayHour(v),
  daily: (v) => fmt.day(v),
  weekly: (v) => `Week of ${fmt.day(v)}`,
};

/** The pressed bucket size ("daily" until the page says otherwise). */
export function currentPeriod() {
  const pressed = document.querySelector('.period[aria-pressed="true"]');
  return (pressed && pressed.dataset.period) || "daily";
}

function dateInputs() {
  return [document.getElementById("range-start"), document.getElementById("range-end")];
}

/** Why the chosen dates cannot be asked for, or "" when they can. */
export function rangeProblem() {
  const [start, end] = dateInputs();
  if (!start || !end) return "";
  if (!start.value || !end.value) return "Pick both dates.";
  // "YYYY-MM-DD" values compare in calendar order.
  if (end.value < start.value) return "\u201cTo\u201d is before \u201cFrom\u201d: pick a \u201cTo\u201d date on or after the \u201cFrom\u201d date.";
  return "";
}

/**
 * The chosen dates as [start, end) instants, or null when they cannot be used (see
 * `rangeProblem`). Start is From's local midnight; end is the midnight after To, or now when
 * the range reaches today: a period still running is asked up to now, so it is compared with
 * the same length of time before it rather than with a whole period.
 */
export function currentRange() {
  const [start, end] = dateInputs();
  if (!start || !end || rangeProblem()) return null;
  const [sy, sm, sd] = start.value.split("-").map(Number);
  const [ey, em, ed] = end.value.split("-").map(Number);
  const from = zonedTime(sy, sm, sd);
  let to = zonedTime(ey, em, ed + 1);
  const now = new Date();
  if (to > now && now > from) to = now;
  return to > from ? [from, to] : null;
}

/** True when the chosen range runs up to now (new transactions change its figures). */
export function rangeReachesNow() {
  const range = currentRange();
  return Boolean(range) && range[1].getTime() >= Date.now() - 60000;
}

/**
 * A counted range as people read it: "Sat, Nov 1 – Fri, Nov 7"; ", until 14:15" when it stops
 * during a day (a range ending now); both times when it also starts during a day (the range a
 * partial period is compared with). `start`/`end` are the API's ISO times, end exclusive.
 */
export function rangeLabel(start, end) {
  const from = toDate(start);
  const to = toDate(end);
  if (!from || !to) return "";
  // Days, hours and years as read in the page's zone (TZ), like the buckets themselves.
  const thisYear = zoneParts(new Date()).year;
  const day = (d) => (zoneParts(d).year === thisYear ? SHORT_DAY : SHORT_DAY_YEAR).format(d);
  const midnight = (d) => zoneParts(d).hour === 0 && zoneParts(d).minute === 0;
  if (!midnight(from)) return `${day(from)} ${fmt.time(from)} – ${day(to)} ${fmt.time(to)}`;
  const lastDay = midnight(to) ? new Date(to.getTime() - 1) : to;
  const days = dateInputValue(from) === dateInputValue(lastDay) ? day(from) : `${day(from)} – ${day(lastDay)}`;
  return midnight(to) ? days : `${days}, until ${fmt.time(to)}`;
}

/**
 * Call `load(background)` whenever the page's range or period changes, after a reconnect, and
 * (at most every 30 s) when new transactions arrive while the range reaches today.
 */
export function onRangeChange(load) {
  let loadedAt = 0;
  let timer = null;
  const run = (background) => {
    loadedAt = Date.now();
    load(background);
  };
  // The page's own handlers run first (its script is earlier), so the inputs are already updated.
  for (const button of document.querySelectorAll(".period")) {
    button.addEventListener("click", () => run(false));
  }
  const form = document.getElementById("range-form");
  if (form) form.addEventListener("submit", () => run(false));
  document.addEventListener("live:refresh", () => run(true));
  document.addEventListener("live:feed", (event) => {
    if (!(event.detail && (event.detail.transactions || []).length) || timer) return;
    if (!rangeReachesNow()) return;
    timer = setTimeout(() => {
      timer = null;
      run(true);
    }, Math.max(0, FEED_RELOAD_MS - (Date.now() - loadedAt)));
  });
  // The page fills the date inputs when its script starts; read them once that has happened.
  queueMicrotask(() => run(false));
}

/** Replace a table's body with `rows`: arrays of cells, each a text or `{ text, num: true, href }`. */
export function fillTable(id, rows, emptyText) {
  const table = document.getElementById(id);
  if (!table) return;
  const body = table.tBodies[0];
  body.replaceChildren();
  if (!rows.length) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = table.tHead.rows[0].cells.length;
    cell.className = "empty-cell";
    cell.textContent = emptyText;
    return;
  }
  for (const cells of rows) {
    const row = body.insertRow();
    for (const value of cells) {
      const cell = row.insertCell();
      const item = typeof value === "object" && value !== null ? value : { text: value };
      if (item.num) cell.className = "num";
      if (item.href) cell.append(Object.assign(document.createElement("a"), { href: item.href, textContent: item.text }));
      else cell.textContent = item.text;
    }
  }
}

/** A right-aligned table cell. */
export const num = (text) => ({ text, num: true });
