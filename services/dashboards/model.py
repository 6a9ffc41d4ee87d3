"""Validation of a dashboard's JSON model: widgets, their grid positions, queries and options.

Everything a client sends is checked here, whole, before anything is stored or run; a refusal
is an ``InputError`` naming the field (``widgets[2].queries[0].range``). A widget query names a
catalogue metric or one of the panel's lists, with parameters from fixed vocabularies: there is
no way to send SQL or any expression. ``normalize_query`` gives each query one canonical form,
which is also its cache key (``query_key``).
"""
from __future__ import annotations

import json
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.infra import InputError
from services.metrics.query import AGGS, parse_step

COLUMNS = 12
MAX_WIDGETS = 40
MAX_QUERIES = 5
WIDGET_TYPES = ("metric_card", "line", "bar", "pie", "table", "gauge", "progress", "sparkline",
                "heatmap", "kpi")
RANGES = ("15m", "1h", "6h", "24h", "today", "yesterday", "7d", "28d", "30d")
REDUCERS = ("none", "sum", "avg", "min", "max", "last")
PANELS = {
    # name -> fields a figure may be read from (empty: the panel is a list or a grid)
    "revenue_summary": ("total_cents", "orders", "average_transaction_cents", "transactions",
                        "success_rate"),
    "customer_summary": ("customers", "new_customers", "returning_customers", "paying_customers",
                         "orders_per_customer", "repeat_purchase_rate"),
    "customer_segments": (),
    "top_customers": (),
    "recent_transactions": (),
    "firing_alerts": (),
    "services": (),
    "activity_heatmap": (),
    "top_products": (),
}
# Panels taking ``by`` (what the list is ranked by) and its choices, the first the default.
RANKED = {"top_products": ("revenue", "units")}
FORMATS = ("number", "money", "percent", "ratio", "ms", "bytes")
ROLES = ("admin", "viewer")
_ID = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,199}", re.ASCII)
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]{0,99}", re.ASCII)
_COLOR = re.compile(r"#[0-9a-fA-F]{6}", re.ASCII)
_CURRENCY = re.compile(r"[A-Za-z]{3}", re.ASCII)
_UNIT = re.compile(r"[A-Za-z0-9_%/. -]{0,16}", re.ASCII)


def _obj(value: Any, field: str, allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise InputError(f"{field} must be an object", field)
    extra = sorted(set(value) - allowed)
    if extra:
        raise InputError(f"{field}.{extra[0]} is not a known field", f"{field}.{extra[0]}")
    return value


def _text(value: Any, field: str, max_len: int, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{field} must be a non-empty string", field)
    if len(value) > max_len:
        raise InputError(f"{field} must be at most {max_len} characters", field)
    if any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F or ch in "\u2028\u2029" for ch in value):
        raise InputError(f"{field} must not contain control characters", field)
    return value.strip()


def _int(value: Any, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InputError(f"{field} must be an integer between {lo} and {hi}", field)
    return value


def _num(value: Any, field: str, nullable: bool = True) -> float | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value) > 1e15:
        raise InputError(f"{field} must be a number (at most 1e15 in size)", field)
    return value


def _choice(value: Any, field: str, choices, default: Any = None) -> Any:
    if value is None:
        return default
    if value not in choices:
        raise InputError(f"{field} must be one of {', '.join(map(str, choices))}", field)
    return value


def _zone(value: Any, field: str) -> str:
    if value is None:
        return "UTC"
    name = _text(value, field, 64)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InputError(f"{field} must be an IANA time zone such as Europe/Paris", field) from None
    return name


def normalize_query(raw: Any, field: str) -> dict[str, Any]:
    """One widget query in its canonical form (defaults filled, order fixed); InputError otherwise."""
    q = _obj(raw, field, {"kind", "metric", "panel", "field", "range", "step", "tz", "currency",
                          "match", "agg", "group_by", "reduce", "limit", "by"})
    kind = _choice(q.get("kind"), f"{field}.kind", ("metric", "panel"), "metric")
    out: dict[str, Any] = {
        "kind": kind,
        "range": _choice(q.get("range"), f"{field}.range", RANGES, "24h"),
        "tz": _zone(q.get("tz"), f"{field}.tz"),
        "currency": None,
    }
    if q.get("currency") is not None:
        cur = q["currency"]
        if not isinstance(cur, str) or not _CURRENCY.fullmatch(cur):
            raise InputError(f"{field}.currency must be a three-letter currency code", f"{field}.currency")
        out["currency"] = cur.upper()
    if kind == "panel":
        for key in ("metric", "step", "match", "agg", "group_by", "reduce"):
            if q.get(key) is not None:
                raise InputError(f"{field}.{key} applies to metric queries only", f"{field}.{key}")
        panel = _choice(q.get("panel"), f"{field}.panel", tuple(PANELS))
        if panel is None:
            raise InputError(f"{field}.panel is required for a panel query", f"{field}.panel")
        fields = PANELS[panel]
        out["panel"] = panel
        out["field"] = _choice(q.get("field"), f"{field}.field", fields) if fields else None
        if not fields and q.get("field") is not None:
            raise InputError(f"{field}.field: {panel} is a list, it has no figure fields", f"{field}.field")
        out["limit"] = _int(q.get("limit", 10), f"{field}.limit", 1, 50)
        if panel in RANKED:  # only ranked lists carry ``by``: other queries keep their cache keys
            out["by"] = _choice(q.get("by"), f"{field}.by", RANKED[panel], RANKED[panel][0])
        elif q.get("by") is not None:
            raise InputError(f"{field}.by applies to {', '.join(RANKED)} only", f"{field}.by")
        return out
    for key in ("panel", "field", "limit", "by"):
        if q.get(key) is not None:
            raise InputError(f"{field}.{key} applies to panel queries only", f"{field}.{key}")
    metric = q.get("metric")
    if not isinstance(metric, str) or not _NAME.fullmatch(metric):
        raise InputError(f"{field}.metric must be a metric name of the catalogue", f"{field}.metric")
    out["metric"] = metric
    step = q.get("step")
    if step is not None:
        if not isinstance(step, (str, int)) or isinstance(step, bool):
            raise InputError(f"{field}.step must be a duration like 5m or 1h", f"{field}.step")
        try:
            step = parse_step(str(step))
        except Exception as exc:  # MetricError: say which widget's step
            raise InputError(f"{field}.step: {getattr(exc, 'message', exc)}", f"{field}.step") from None
    out["step"] = step
    match = _obj(q.get("match") or {}, f"{field}.match", set(q.get("match") or {}))
    if len(match) > 10:
        raise InputError(f"{field}.match takes at most 10 labels", f"{field}.match")
    clean = {}
    for key, value in sorted(match.items()):
        if not _LABEL.fullmatch(key):
            raise InputError(f"{field}.match: {key[:40]!r} is not a label name", f"{field}.match")
        clean[key] = _text(value, f"{field}.match.{key}", 200) if value != "" else ""
    out["match"] = clean
    out["agg"] = _choice(q.get("agg"), f"{field}.agg", AGGS, "avg")
    group_by = q.get("group_by")
    if group_by is not None:
        if not isinstance(group_by, list) or len(group_by) > 10 or not all(
                isinstance(g, str) and _LABEL.fullmatch(g) for g in group_by):
            raise InputError(f"{field}.group_by must be a list of up to 10 label names", f"{field}.group_by")
        group_by = sorted(set(group_by))
    out["group_by"] = group_by
    out["reduce"] = _choice(q.get("reduce"), f"{field}.reduce", REDUCERS, "none")
    return out


def query_key(query: dict[str, Any]) -> str:
    """The canonical text of a normalized query: equal queries, equal keys."""
    return json.dumps(query, sort_keys=True, separators=(",", ":"))


def _grid(raw: Any, field: str) -> dict[str, int]:
    g = _obj(raw, field, {"x", "y", "w", "h"})
    pos = {"x": _int(g.get("x"), f"{field}.x", 0, COLUMNS - 1), "y": _int(g.get("y"), f"{field}.y", 0, 1000),
           "w": _int(g.get("w"), f"{field}.w", 1, COLUMNS), "h": _int(g.get("h"), f"{field}.h", 1, 40)}
    if pos["x"] + pos["w"] > COLUMNS:
        raise InputError(f"{field}: x + w must be at most {COLUMNS}", f"{field}.w")
    return pos


def _options(raw: Any, field: str) -> dict[str, Any]:
    o = _obj(raw if raw is not None else {}, field,
             {"unit", "format", "decimals", "thresholds", "target", "min", "max", "color"})
    unit = o.get("unit")
    if unit is not None and (not isinstance(unit, str) or not _UNIT.fullmatch(unit)):
        raise InputError(f"{field}.unit must be up to 16 letters, digits or % / . - _", f"{field}.unit")
    thresholds = o.get("thresholds") or []
    if not isinstance(thresholds, list) or len(thresholds) > 10:
        raise InputError(f"{field}.thresholds must be a list of up to 10 steps", f"{field}.thresholds")
    steps = []
    for i, t in enumerate(thresholds):
        tf = f"{field}.thresholds[{i}]"
        t = _obj(t, tf, {"value", "color"})
        color = t.get("color")
        if not isinstance(color, str) or not _COLOR.fullmatch(color):
            raise InputError(f"{tf}.color must be a colour like #d32f2f", f"{tf}.color")
        steps.append({"value": _num(t.get("value"), f"{tf}.value", nullable=False), "color": color.lower()})
    steps.sort(key=lambda s: s["value"])
    color = o.get("color")
    if color is not None and (not isinstance(color, str) or not _COLOR.fullmatch(color)):
        raise InputError(f"{field}.color must be a colour like #1f77b4", f"{field}.color")
    low, high = _num(o.get("min"), f"{field}.min"), _num(o.get("max"), f"{field}.max")
    if low is not None and high is not None and low >= high:
        raise InputError(f"{field}.min must be below max", f"{field}.min")
    decimals = o.get("decimals")
    return {"unit": unit, "format": _choice(o.get("format"), f"{field}.format", FORMATS, "number"),
            "decimals": None if decimals is None else _int(decimals, f"{field}.decimals", 0, 6),
            "thresholds": steps, "target": _num(o.get("target"), f"{field}.target"),
            "min": low, "max": high, "color": color.lower() if color else None}


def normalize_widgets(raw: Any, field: str = "widgets") -> list[dict[str, Any]]:
    """Every widget of a model, checked and normalized; ids unique."""
    if not isinstance(raw, list) or len(raw) > MAX_WIDGETS:
        raise InputError(f"{field} must be a list of at most {MAX_WIDGETS} widgets", field)
    out, seen = [], set()
    for i, w in enumerate(raw):
        wf = f"{field}[{i}]"
        w = _obj(w, wf, {"id", "type", "title", "gridPos", "queries", "options"})
        wid = w.get("id")
        if not isinstance(wid, str) or not _ID.fullmatch(wid):
            raise InputError(f"{wf}.id must be 1-40 letters, digits, - or _", f"{wf}.id")
        if wid in seen:
            raise InputError(f"{wf}.id {wid} is used twice", f"{wf}.id")
        seen.add(wid)
        kind = _choice(w.get("type"), f"{wf}.type", WIDGET_TYPES)
        if kind is None:
            raise InputError(f"{wf}.type is required", f"{wf}.type")
        queries = w.get("queries")
        if not isinstance(queries, list) or not 1 <= len(queries) <= MAX_QUERIES:
            raise InputError(f"{wf}.queries must be a list of 1 to {MAX_QUERIES} queries", f"{wf}.queries")
        out.append({"id": wid, "type": kind, "title": _text(w.get("title"), f"{wf}.title", 120),
                    "gridPos": _grid(w.get("gridPos"), f"{wf}.gridPos"),
                    "queries": [normalize_query(q, f"{wf}.queries[{j}]") for j, q in enumerate(queries)],
                    "options": _options(w.get("options"), f"{wf}.options")})
    return out


def title(raw: Any, field: str = "title") -> str:
    """A dashboard title."""
    return _text(raw, field, 120)


def visibility(raw: Any, roles_raw: Any, field: str = "visibility") -> tuple[str, list[str]]:
    """(visibility, shared roles); roles are required for ``roles`` and empty otherwise."""
    vis = _choice(raw, field, ("private", "roles", "public"), "private")
    if vis != "roles":
        if roles_raw not in (None, []):
            raise InputError("shared_roles applies to visibility 'roles' only", "shared_roles")
        return vis, []
    if not isinstance(roles_raw, list) or not roles_raw or not all(r in ROLES for r in roles_raw):
        raise InputError(f"shared_roles must be a non-empty list of {', '.join(ROLES)}", "shared_roles")
    return vis, sorted(set(roles_raw))
