"""Performance monitor: request timing hooks, database query timing, the system sampler.

The request path only adds to in-memory counters (``services.request_timer``); the scheduler
calls ``flush`` to write them as per-minute ``request_stats`` rows and ``sample`` to write one
``system_metrics`` row. Reading them back lives in ``services.performance_stats``.
"""
from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Flask, current_app, request
from sqlalchemy import event, insert, select

import database
from database import RequestStat, SystemMetric
from services import histogram, self_cost
from services.histogram import BUCKET_BOUNDS_MS  # noqa: F401  (exposed for the Prometheus collector)
from services.request_timer import RequestTimer
from services.sampler import Sampler

log = logging.getLogger(__name__)

# The timing of the request this thread is serving, for the database hooks (None outside one).
_current: ContextVar[list | None] = ContextVar("request_timing", default=None)
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
    install_timer(app)
    engine = database.get_engine(app)
    event.listen(engine, "before_cursor_execute", _before_cursor)
    event.listen(engine, "after_cursor_execute", _after_cursor)


def install_timer(app: Flask) -> Monitor:
    """Only the request hooks (no database): what the overhead benchmark measures.

    The hooks are closures over this app's timer, and the timing rides on the request object,
    so the request path never looks anything up through ``current_app`` or ``g``.
    """
    mon = Monitor(timer=RequestTimer())
    app.extensions["performance"] = mon
    record = mon.timer.record
    sample_cost = self_cost.sample_request
    labels: dict[str, str] = {}  # endpoint -> label: an endpoint's path prefix never changes

    def before_request() -> None:
        req = request._get_current_object()
        endpoint = req.endpoint
        if endpoint is not None and endpoint.endswith("static") and (
                endpoint == "static" or endpoint.endswith(".static")):
            return
        # One request in TIMER_COST_SAMPLE_EVERY also times these hooks: the monitor's own cost.
        cost_from = time.perf_counter_ns() if sample_cost() else None
        # [start, wall-clock start, db queries, db ms, hook ns]; the database hooks add to 2 and 3.
        req._rt = rt = [time.perf_counter(), time.time(), 0, 0.0, None]
        _current.set(rt)
        if cost_from is not None:
            rt[4] = time.perf_counter_ns() - cost_from

    def finish(req, status: int) -> None:
        rt = req.__dict__.pop("_rt", None)
        if rt is None:
            return
        cost_from = time.perf_counter_ns() if rt[4] is not None else 0
        _current.set(None)  # a pooled worker thread must not charge later queries to this request
        ms = (time.perf_counter() - rt[0]) * 1000.0
        endpoint = req.endpoint
        if endpoint is None:
            endpoint, label = UNMATCHED, label_for(req.path)
        else:
            label = labels.get(endpoint)
            if label is None:
                label = labels[endpoint] = label_for(req.path)
        record(int(rt[1] // 60), endpoint, req.method, label, ms, status >= 500, rt[2], rt[3])
        if rt[4] is not None:
            self_cost.record_timer_cost(rt[4] + time.perf_counter_ns() - cost_from)

    def after_request(response):
        finish(request._get_current_object(), response.status_code)
        return response

    def teardown_request(exc: BaseException | None) -> None:
        # Still pending only when no response was finalised (an after_request hook raised).
        req = request._get_current_object()
        if "_rt" in req.__dict__:
            finish(req, 500)

    # Registered first, so it runs before any other hook and times nearly the whole request.
    app.before_request_funcs.setdefault(None, []).insert(0, before_request)
    app.after_request(after_request)
    app.teardown_request(teardown_request)
    return mon


def _before_cursor(conn, cursor, statement, parameters, context, executemany) -> None:
    # A ContextVar read: this runs for every query, far cheaper than has_request_context().
    if _current.get() is not None and context is not None:
        context._rt_start = time.perf_counter()


def _after_cursor(conn, cursor, statement, parameters, context, executemany) -> None:
    rt = _current.get()
    if rt is None or context is None:
        return
    start = getattr(context, "_rt_start", None)
    if start is not None:
        rt[2] += 1
        rt[3] += (time.perf_counter() - start) * 1000.0


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


def prime(app: Flask) -> None:
    """Create the sampler now, so the first sample measures CPU and network over a real interval."""
    mon = _monitor(app)
    if mon.sampler is None:
        mon.sampler = Sampler()


def sample(app: Flask) -> dict[str, Any]:
    """Read the machine and store one ``system_metrics`` row; returns the values."""
    prime(app)
    mon = _monitor(app)
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
