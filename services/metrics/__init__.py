"""Own metrics: any service pushes numbers; the panel keeps, lists and answers them.

The public face: ``ingest_json`` and ``ingest_prometheus`` (the two HTTP formats),
``record_metric`` (in-process), ``catalog`` and ``query`` (reading, built-in and pushed alike),
``register`` (a provider of built-in metrics), ``prune`` (the retention job's part), and
``reduce_window`` / ``last_seen`` (one number over a trailing window, and the newest point's
time: what a rule on any catalogue metric reads).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Mapping

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

import database
from database import utcnow
from services.metrics import builtins, catalogue, prom, query as _query, store, validate
from services.metrics.catalogue import register
from services.metrics.models import MetricSeries
from services.metrics.retention import prune
from services.metrics.store import StoreResult
from services.metrics.validate import MetricError, Window
from services.metrics.window import last_seen, reduce_window, window_stats

__all__ = ["MetricError", "StoreResult", "ingest_json", "ingest_prometheus", "record_metric",
           "catalog", "query", "register", "prune", "reduce_window", "last_seen", "parse_matchers",
           "pushed_series", "ingest_history", "window_stats"]

parse_matchers = _query.parse_matchers
query_module = _query

builtins.register_all()


def _max_series(config: Mapping[str, Any]) -> int:
    return int(config.get("METRIC_MAX_SERIES") or store.DEFAULT_MAX_SERIES)


def _refuse_builtin(points) -> None:
    owned = catalogue.builtin_names()
    for index, p in enumerate(points):
        if p.name in owned:
            raise MetricError(f"metrics[{index}]: {p.name} is one of the panel's own metrics; "
                              "push under another name", field="name", index=index,
                              code="reserved_name")


def ingest_json(session: Session, body: Any, config: Mapping[str, Any],
                now: datetime | None = None) -> StoreResult:
    """Validate ``{"metrics": [...]}`` whole, then store it in one transaction."""
    now = now or utcnow()
    points = validate.check_batch(body, Window.from_config(config, now))
    _refuse_builtin(points)
    return store.store(session, points, _max_series(config), now)


def ingest_history(session: Session, items: list[dict], config: Mapping[str, Any], earliest: datetime,
                   now: datetime | None = None) -> StoreResult:
    """Store points as ``ingest_json`` does, but accepting timestamps back to ``earliest`` (a
    history imported at once, such as the demo's backfill), 1,000 points per transaction."""
    now = now or utcnow()
    window = Window(now, max(0.0, (now - earliest).total_seconds()) + 1.0,
                    float(config.get("METRIC_MAX_FUTURE_SECONDS", validate.DEFAULT_MAX_FUTURE)))
    stored = new = 0
    for begin in range(0, len(items), validate.MAX_POINTS):
        points = validate.check_batch({"metrics": items[begin:begin + validate.MAX_POINTS]}, window)
        _refuse_builtin(points)
        result = store.store(session, points, _max_series(config), now)
        stored += result.points
        new += result.new_series
    return StoreResult(stored, new)


def ingest_prometheus(session: Session, body: str, config: Mapping[str, Any],
                      now: datetime | None = None) -> dict[str, Any]:
    """Store the samples of a Prometheus text exposition; the 202 body (with ``skipped``)."""
    items, skipped = prom.parse(body)
    result = ingest_json(session, {"metrics": items}, config, now)
    return {**result.as_json(), "skipped": skipped}


def record_metric(name: str, value: float, labels: dict[str, str] | None = None, type: str = "gauge",  # noqa: A002 - the contract's name
                  unit: str | None = None, timestamp: datetime | str | float | None = None, *,
                  app: Flask | None = None, session: Session | None = None) -> dict[str, Any]:
    """Store one point now (or at ``timestamp``), with the HTTP API's rules; raises ``MetricError``.

    Uses ``session`` when given (and commits it), else a session of ``app`` (default: the current app).
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    item = {"name": name, "value": value, "type": type, "labels": labels, "unit": unit,
            "timestamp": timestamp}
    now = utcnow()
    point = validate.check_point(item, Window.from_config(app.config, now))
    _refuse_builtin([point])
    own = session or database.state(app).session_factory()
    try:
        result = store.store(own, [point], _max_series(app.config), now)
    finally:
        if session is None:
            own.close()
    return {"name": point.name, "labels": dict(point.labels), "type": point.type, "value": point.value,
            "timestamp": point.ts.isoformat(), "new_series": result.new_series}


def catalog(session: Session, config: Mapping[str, Any], q: str | None = None,
            now: datetime | None = None) -> dict[str, Any]:
    """Every series, built-in and pushed (``q``: names containing it)."""
    return catalogue.catalog(session, now or utcnow(), dict(config), q)


def query(session: Session, args: Mapping[str, str], config: Mapping[str, Any],
          time_arg: Callable[[str], datetime | None], now: datetime | None = None) -> dict[str, Any]:
    """Parse the query parameters and answer them (``MetricError`` names a bad one)."""
    q = _query.parse(args, now or utcnow(), time_arg)
    return _query.run(session, q, dict(config))


def pushed_series(session: Session, limit: int) -> list[tuple[str, dict[str, str], str, str | None, float]]:
    """The newest value of every pushed series that has one, ordered by name then label set:
    (name, labels, type, unit, last value), at most ``limit`` of them."""
    rows = session.execute(
        select(MetricSeries.name, MetricSeries.labels, MetricSeries.type, MetricSeries.unit,
               MetricSeries.last_value)
        .where(MetricSeries.last_value.is_not(None))
        .order_by(MetricSeries.name, MetricSeries.labels_hash).limit(limit)
    ).all()
    return [(name, dict(labels or {}), kind, unit, float(last)) for name, labels, kind, unit, last in rows]
