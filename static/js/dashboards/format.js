// Widget values as people read them: the widget's format, decimals and unit; threshold colours.
import { isNum, money } from "../format.js";

/** `value` formatted by the widget's options (`currency` for money). */
export function formatValue(value, options = {}, currency = null) {
  if (!isNum(value)) return "—";
  const decimals = isNum(options.decimals) ? options.decimals : null;
  const number = (v, d) => new Intl.NumberFormat(undefined, {
    minimumFractionDigits: d === null ? 0 : d, maximumFractionDigits: d === null ? (Number.isInteger(v) ? 0 : 2) : d,
  }).format(v);
  const unit = options.unit ? ` ${options.unit}` : "";
  switch (options.format) {
    case "money": return money(value, currency || "USD");
    case "percent": return `${number(value, decimals === null ? 1 : decimals)} %`;
    case "ratio": return `${number(value * 100, decimals === null ? 1 : decimals)} %`;
    case "ms": return `${number(value, decimals === null ? 0 : decimals)} ms`;
    case "bytes": {
      const units = ["B", "KB", "MB", "GB", "TB"];
      let v = value;
      let i = 0;
      while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
      return `${number(v, decimals === null ? 1 : decimals)} ${units[i]}`;
    }
    default: return `${number(value, decimals)}${unit}`;
  }
}

/** The colour of the highest threshold at or below `value`, or null. */
export function thresholdColor(value, thresholds) {
  if (!isNum(value) || !Array.isArray(thresholds)) return null;
  let color = null;
  for (const step of thresholds) if (value >= step.value) color = step.color;
  return color;
}

/** "today, UTC" / "last 24 h" and the currency: what a widget's figure covers. */
export function caption(query, data) {
  const names = { "15m": "last 15 min", "1h": "last hour", "6h": "last 6 h", "24h": "last 24 h", today: "today",
    yesterday: "yesterday", "7d": "last 7 days", "28d": "last 28 days", "30d": "last 30 days" };
  const parts = [names[query.range] || query.range];
  if (query.range === "today" || query.range === "yesterday") parts[0] += ` (${query.tz})`;
  const currency = data && data.currency;
  if (currency) parts.unshift(currency);
  return parts.join(", ");
}
