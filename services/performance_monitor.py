"""Performance monitor: request timing hooks, database query timing, the system sampler.

The request path only adds to in-memory counters (``services.request_timer``); the scheduler
calls ``flush`` to write them as per-minute ``request_stats`` rows and ``sample`` to write one
``system_metrics`` row. Reading them back lives in ``services.performance_stats``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event, insert, select

import database
from database import RequestStat, SystemMetric
from services import histogram, self_cost
from services.histogram import BUCKET_BOUNDS_MS  # noqa: F401  (exposed for the Prometheus collector)
from services.request_timer import RequestTimer
from services.sampler import Sampler

log = logging.getLogger(__name__)

# Labels let the performance page tell the business's traffic from the panel watching itself.
LABELS = (("/admin/api/", "panel-api"), ("/api/", "ingest"), ("/admin", "page"))
UNMATCHED = "(unmatched)"


def label_for(path: str) -> str:
    """The label of a request path: panel-api, ingest, page or app."""
    for prefix, label in LABELS:
        if path.startswith(prefix):
            return label
    return "app"


@dataclass
class Monitor:
    """Per-app timer and sampler (``app.extensions['performance']``)."""

    timer: RequestTimer
    sampler: Sampler | None = None
    last_sample: dict[str, Any] | None = None


def _monitor(app: Flask | None = None) -> Monitor:
    return (app or current_app).extensions["performance"]


def init_app(app: Flask) -> None:
    """Install the request hooks and the database timing events for ``app``."""
    mon = Monitor(timer=RequestTimer())
    app.extensions["performance"] = mon
    # Registered first, so it runs before any other hook and times nearly the whole request.
    app.before_request_funcs.setdefault(None, []).insert(0, _before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown_request)
    engine = database.get_engine(app)
    event.listen(engine, "before_cursor_execute", _before_cursor)
    event.listen(engine, "after_cursor_execute", _after_cursor)


def _before_request() -> None:
    endpoint = request.endpoint
    if endpoint is not None and (endpoint == "static" or endpoint.endswith(".static")):
        return
    # One request in TIMER_COST_SAMPLE_EVERY also times these hooks: the monitor's own cost.
    cost_from = time.perf_counter_ns() if self_cost.sample_request() else None
    g._rt_start = time.perf_counter()
    g._rt_wall = time.time()
    g._rt_db = [0, 0.0]
    if cost_from is not None:
        g._rt_cost = time.perf_counter_ns() - cost_from


def _record(status: int) -> None:
    start = g.pop("_rt_start", None)
    if start is None:
        return
    ms = (time.perf_counter() - start) * 1000.0
    cost = g.pop("_rt_cost", None)
    cost_from = time.perf_counter_ns() if cost is not None else 0
    queries, db_ms = g.pop("_rt_db", (0, 0.0))
    _monitor().timer.record(int(g.pop("_rt_wall") // 60), request.endpoint or UNMATCHED,
                            request.method, label_for(request.path), ms, status >= 500,
                            queries, db_ms)
    if cost is not None:
        self_cost.record_timer_cost(cost + time.perf_counter_ns() - cost_from)


def _after_request(response):
    _record(response.status_code)
    return response


def _teardown_request(exc: BaseException | None) -> None:
    # Reached with the start time still set only when no response was finalised: an error.
    if "_rt_start" in g:
        _record(500)


def _before_cursor(conn, cursor, statement, parameters, context, executemany) -> None:
    if has_request_context():
        conn.info.setdefault("_rt_query_start", []).append(time.perf_counter())


def _after_cursor(conn, cursor, statement, parameters, context, executemany) -> None:
    starts = conn.info.get("_rt_query_start")
    if not starts:
        return
    elapsed = (time.perf_counter() - starts.pop()) * 1000.0
    if has_request_context():
        counts = g.get("_rt_db")
        if counts is not None:
            counts[0] += 1
            counts[1] += elapsed


def flush(app: Flask) -> int:
    """Write what the timer holds as ``request_stats`` rows; returns how many rows.

    If the database refuses, the counts go back into the timer and the next flush retries.
    """
    mon = _monitor(app)
    data = mon.timer.drain()
    if not data:
        return 0
    rows = [{
        "minute": datetime.fromtimestamp(minute * 60, timezone.utc),
        "endpoint": endpoint[:200], "method": method[:10], "label": label,
        "count": acc.count, "errors": acc.errors, "total_ms": acc.total_ms,
        "max_ms": acc.max_ms, "db_queries": acc.db_queries, "db_ms": acc.db_ms,
        "buckets": histogram.to_json(acc.buckets),
    } for (minute, endpoint, method, label), acc in data.items()]
    try:
        with database.session_scope(app) as session:
            session.execute(insert(RequestStat), rows)
    except Exception:
        mon.timer.restore(data)
        raise
    return len(rows)


def sample(app: Flask) -> dict[str, Any]:
    """Read the machine and store one ``system_metrics`` row; returns the values."""
    mon = _monitor(app)
    if mon.sampler is None:
        mon.sampler = Sampler()
    values = mon.sampler.sample()
    recorded_at = database.utcnow()
    with database.session_scope(app) as session:
        session.add(SystemMetric(recorded_at=recorded_at, **values))
    mon.last_sample = {**values, "recorded_at": recorded_at}
    return mon.last_sample


def latest_sample(app: Flask, session) -> dict[str, Any] | None:
    """This process's last sample, else the newest stored row (another process sampled it)."""
    mon = _monitor(app)
    if mon.last_sample is not None:
        return mon.last_sample
    row = session.scalar(select(SystemMetric).order_by(SystemMetric.recorded_at.desc()).limit(1))
    if row is None:
        return None
    return {c: getattr(row, c) for c in ("cpu_percent", "memory_percent", "disk_percent",
                                         "net_sent_bps", "net_recv_bps", "recorded_at")}
