"""Running one normalized widget query: a catalogue metric (through the Metrics page's query) or
one of the panel's lists (``panels``).

A metric query answers ``series`` (labels and [time, value] points) and, when the widget asks
for one figure (``reduce``), ``value``: the points of the series folded into one number.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy.orm import Session

from services.dashboards import panels
from services.dashboards.ranges import resolve
from services.infra import InputError
from services.metrics import MetricError, query_module

Memo = Callable[[str, Callable[[], Any]], Any]


def _match_text(match: dict[str, str]) -> str:
    parts = []
    for key, value in match.items():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'{key}="{escaped}"')
    return ",".join(parts)


def _reduce(points: list, how: str) -> float | None:
    values = [p[1] for p in points if p[1] is not None]
    if not values:
        return None
    if how == "sum":
        return sum(values)
    if how == "avg":
        return sum(values) / len(values)
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    return values[-1]


def _metric(session: Session, q: dict, now: datetime, config: dict) -> dict[str, Any]:
    start, end = resolve(q["range"], q["tz"], now)
    match = dict(q["match"])
    if q["currency"]:
        match["currency"] = q["currency"]
    args = {"name": q["metric"], "agg": q["agg"], "match": _match_text(match)}
    if q["step"]:
        args["step"] = str(q["step"])
    if q["group_by"] is not None:
        args["group_by"] = ",".join(q["group_by"])
    times = {"start": start, "end": end}
    try:
        parsed = query_module.parse(args, now, times.get)
        body = query_module.run(session, parsed, config)
    except MetricError as exc:
        raise InputError(exc.message, f"query.{exc.field}" if exc.field else "query") from None
    series = body["series"]
    if not q["currency"] and q["group_by"] is None and len(series) > 1 and all(
            "currency" in s["labels"] for s in series):
        # Money never adds up across currencies: without a named one, the widget shows the
        # currency with the most of it in the range (as the Overview does).
        series = [max(series, key=lambda s: (sum(p[1] for p in s["points"]), s["labels"]["currency"]))]
    out = {"series": series, "unit": body["unit"], "step": body["step"],
           "start": body["start"], "end": body["end"]}
    if series and "currency" in series[0]["labels"]:
        out["currency"] = series[0]["labels"]["currency"]
    if q["reduce"] != "none":
        out["value"] = _reduce(series[0]["points"], q["reduce"]) if series else None
    return out


def _no_memo(key: str, fn: Callable[[], Any]) -> Any:
    return fn()


def run(session: Session, q: dict, now: datetime, config: dict, memo: Memo = _no_memo) -> dict[str, Any]:
    """The data of one normalized query (``model.normalize_query``) at ``now``; ``memo(key, fn)``
    shares pieces several queries read (see ``cache.WidgetCache.part``)."""
    if q["kind"] == "panel":
        return panels.PANELS[q["panel"]](session, q, now, memo)
    return _metric(session, q, now, config)
