// Number, money and time formatting in the browser's locale and time zone.

/** The browser's own IANA time zone. */
export const BROWSER_TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** `name`'s canonical spelling when Intl knows the zone, else null. */
export function knownZone(name) {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch (err) {
    return null;
  }
}

// A link carries the zone its view was made in (`tz`): days and hours are read in it, so a
// colleague elsewhere sees the sender's figures. An unknown zone falls back to the browser's.
const ASKED_TZ = new URLSearchParams(location.search).get("tz");
const LINKED_TZ = ASKED_TZ ? knownZone(ASKED_TZ) : null;

/** The zone days and hours are read in (sent as `tz`, so the server buckets them the same way). */
export const TZ = LINKED_TZ || BROWSER_TZ;

/** What the page says about its zone: "Times in X", and why a linked zone was not used. */
export function zoneNote() {
  if (ASKED_TZ && !LINKED_TZ) return `Unknown time zone \u201c${ASKED_TZ}\u201d in the link: times in ${BROWSER_TZ}`;
  return LINKED_TZ && LINKED_TZ !== BROWSER_TZ ? `Times in ${TZ} (from the link; this browser is in ${BROWSER_TZ})` : `Times in ${TZ}`;
}

const NUMBER = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const DECIMAL = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const moneyFormats = new Map();

/** True when `value` is a real number we can show (null/undefined/NaN mean "no data"). */
export function isNum(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** Integer minor units to a currency string, e.g. 123456 → "$1,234.56". */
export function money(cents, currency = "USD") {
  if (!isNum(cents)) return "—";
  const code = currency || "USD";
  if (!moneyFormats.has(code)) {
    try {
      moneyFormats.set(code, new Intl.NumberFormat(undefined, { style: "currency", currency: code }));
    } catch (err) {
      moneyFormats.set(code, new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
    }
  }
  return moneyFormats.get(code).format(cents / 100);
}

/** A count with grouping, e.g. 12345 → "12,345". */
export function count(value) {
  return isNum(value) ? NUMBER.format(value) : "—";
}

/** A count with its noun in the right number: plural(1, "entry", "entries") → "1 entry". */
export function plural(value, one, many = `${one}s`) {
  return `${count(value)} ${value === 1 ? one : many}`;
}

/** Milliseconds, e.g. 12.345 → "12.3 ms", 1520 → "1.52 s". */
export function ms(value) {
  if (!isNum(value)) return "—";
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return `${DECIMAL.format(value)} ms`;
}

/** A value already in percent, e.g. 42.13 → "42.1 %". */
export function pct(value) {
  return isNum(value) ? `${DECIMAL.format(value)} %` : "—";
}

/** A ratio 0..1 as percent, e.g. 0.0123 → "1.23 %". */
export function ratio(value) {
  if (!isNum(value)) return "—";
  const p = value * 100;
  return `${p < 10 ? p.toFixed(2) : p.toFixed(1)} %`;
}

/** Bytes per second, e.g. 123456 → "121 KB/s". */
export function bps(value) {
  if (!isNum(value)) return "—";
  const units = ["B/s", "KB/s", "MB/s", "GB/s"];
  let v = value;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${DECIMAL.format(v)} ${units[i]}`;
}

const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZone: TZ });
const TIME_S = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: TZ });
const DAY_HOUR = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", timeZone: TZ });
const DAY = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric", timeZone: TZ });
// The one format for a full date and time, on every page (logs, audit, alerts, exports, feeds).
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium", timeZone: TZ });

/** Parse an ISO string (or pass a Date through); null when it is not a time. */
export function toDate(value) {
  if (value instanceof Date) return value;
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export const fmt = {
  time: (v) => (toDate(v) ? TIME.format(toDate(v)) : "—"),
  timeSeconds: (v) => (toDate(v) ? TIME_S.format(toDate(v)) : "—"),
  dayHour: (v) => (toDate(v) ? DAY_HOUR.format(toDate(v)) : "—"),
  day: (v) => (toDate(v) ? DAY.format(toDate(v)) : "—"),
  dateTime: (v) => (toDate(v) ? DATE_TIME.format(toDate(v)) : "—"),
};

/** "3 s ago", "5 min ago" for a feed entry. */
export function ago(value, now = Date.now()) {
  const date = toDate(value);
  if (!date) return "";
  const s = Math.max(0, Math.round((now - date.getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

const PARTS = new Intl.DateTimeFormat("en-US", {
  timeZone: TZ, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric",
});

/** A Date's calendar fields in TZ: {year, month (1-12), day, hour, minute}. */
export function zoneParts(date) {
  const out = {};
  for (const part of PARTS.formatToParts(date)) if (part.type !== "literal") out[part.type] = Number(part.value);
  return out;
}

/** The instant of `year-month-day hour:00` read in TZ (day may overflow: Date.UTC carries it). */
export function zonedTime(year, month, day, hour = 0) {
  const wanted = Date.UTC(year, month - 1, day, hour);
  let guess = wanted;
  // The zone's offset at the guess, applied twice so a guess across a DST change settles.
  for (let i = 0; i < 2; i += 1) {
    const p = zoneParts(new Date(guess));
    guess += wanted - Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
  }
  return new Date(guess);
}

/** Midnight in TZ of the day `days` before today (0 = today), as a Date. */
export function localMidnight(days = 0) {
  const p = zoneParts(new Date());
  return zonedTime(p.year, p.month, p.day - days);
}

/** A Date as "YYYY-MM-DD" in TZ (the value of an <input type="date">). */
export function dateInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  const p = zoneParts(date);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}
