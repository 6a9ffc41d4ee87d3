"""Performance monitor: request timing, database query timing, the system sampler.

The request path only adds to in-memory counters (``services.monitor.request_timer``); the scheduler
calls ``flush`` to write them as per-minute ``request_stats`` rows and ``sample`` to write one
``system_metrics`` row. Reading them back lives in ``services.monitor.stats``.
"""
from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event, insert, select

import database
from services.monitor.models import RequestStat, SystemMetric
from services.monitor import histogram
from services.monitor import self_cost
from services.monitor.request_timer import Accumulator, RequestTimer
from services.monitor.sampler import Sampler

log = logging.getLogger(__name__)

# Where the wrapper leaves the request's [database queries, their ms] for the cursor hooks.
TIMING_KEY = "panel.request_timing"
# Labels let the performance page tell the business's traffic from the panel watching itself.
# The Socket.IO endpoint is the panel talking to itself too (its live connection).
LABELS = (("/admin/api/", "panel-api"), ("/socket.io", "panel-api"), ("/api/", "ingest"), ("/admin", "page"))
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
    """Install the request timer and the database timing events for ``app``."""
    install_timer(app)
    engine = database.get_engine(app)
    event.listen(engine, "before_cursor_execute", _before_cursor)
    event.listen(engine, "after_cursor_execute", _after_cursor)


class _TimingMiddleware:
    """Times every request Flask serves, wrapped around ``app.wsgi_app``.

    A WSGI wrapper rather than before/after/teardown hooks: Flask charges three hook calls about
    as much as the timing itself. The wrapper passes its own ``start_response`` on, which Flask
    calls while the request is still in context: that is where it takes the status line and the
    matched endpoint (the request object is in ``environ['werkzeug.request']`` until Flask pops
    the context). The request path then queues one raw tuple; minute, endpoint, label, error and
    histogram bucket are worked out a batch at a time when the scheduler folds the queue
    (``_fold_raw``). A streamed body is timed until the view returned its generator. Requests that
    raise out of Flask (only with exceptions propagated, as in tests) count as 5xx of "(unmatched)".
    """

    def __init__(self, wsgi_app, timer: RequestTimer, sample_every: int) -> None:
        self.wsgi_app = wsgi_app
        self._append = timer.append
        self._requests = itertools.count(1)
        self._every = max(1, int(sample_every))

    def __call__(self, environ, start_response):
        # One request in TIMER_COST_SAMPLE_EVERY also times this wrapper: the monitor's own cost.
        cost_from = time.perf_counter_ns() if next(self._requests) % self._every == 0 else 0
        seen = ["500", None]  # status line, matched endpoint

        def start(line, headers, exc_info=None):
            seen[0] = line
            req = environ.get("werkzeug.request")
            if req is not None and req.url_rule is not None:
                seen[1] = req.url_rule.endpoint
            return start_response(line, headers, exc_info)

        # Database queries and their ms, added to by the cursor hooks. It rides on the environ, so
        # the request path sets no context variable; queries outside a request never see it.
        environ[TIMING_KEY] = timing = [0, 0.0]
        cost = time.perf_counter_ns() - cost_from if cost_from else 0
        began = time.perf_counter()
        try:
            return self.wsgi_app(environ, start)
        finally:
            ms = (time.perf_counter() - began) * 1000.0
            if cost_from:
                cost_from = time.perf_counter_ns()
            self._append((began, seen[1], environ["REQUEST_METHOD"], seen[0], ms, timing,
                          environ.get("PATH_INFO", "")))
            if cost_from:
                self_cost.record_timer_cost(cost + time.perf_counter_ns() - cost_from)


def _fold_raw():
    """Turns a batch of the wrapper's raw tuples into accumulators per timer key.

    Per request only a grouping step runs in Python; sums, maxima and histogram buckets are
    computed per group by builtins. Start times are ``perf_counter`` readings (cheaper on the
    request than the wall clock), mapped to wall-clock minutes with the offset at fold time.
    """
    labels: dict[str, str] = {}  # endpoint -> label: an endpoint's path prefix never changes

    def key_of(minute: int, endpoint: str | None, method: str, path: str) -> tuple | None:
        if endpoint is None:
            return minute, UNMATCHED, method, label_for(path)
        if endpoint == "static" or endpoint.endswith(".static"):
            return None  # the panel's own files are not traffic worth timing
        label = labels.get(endpoint)
        if label is None:
            label = labels[endpoint] = label_for(path)
        return minute, endpoint, method, label

    def fold(items: list[tuple]):
        offset = time.time() - time.perf_counter()
        groups: dict[tuple, list] = {}
        paths: dict[tuple, str] = {}  # a path of each group: labels come from path prefixes
        for began, endpoint, method, status, ms, timing, path in items:
            group = (int((began + offset) // 60), endpoint, method, status, path if endpoint is None else "")
            found = groups.get(group)
            if found is None:
                groups[group] = found = []
                paths[group] = path
            found.append((ms, timing))
        for group, found in groups.items():
            minute, endpoint, method, status, _ = group
            key = key_of(minute, endpoint, method, paths[group])
            if key is None:
                continue
            acc = Accumulator()
            acc.add_many([ms for ms, _ in found], len(found) if int(status[:3]) >= 500 else 0,
                         sum(t[0] for _, t in found), sum(t[1] for _, t in found))
            yield key, acc

    return fold


def install_timer(app: Flask, fold_at: int = 50_000) -> Monitor:
    """Only the request timer (no database events): what the overhead benchmark measures.

    ``fold_at``: queued requests that make a request fold the queue itself (the scheduler
    normally folds it first, every tick).
    """
    mon = Monitor(timer=RequestTimer(fold_at=fold_at, fold_raw=_fold_raw()))
    app.extensions["performance"] = mon
    app.wsgi_app = _TimingMiddleware(app.wsgi_app, mon.timer,
                                     app.config.get("TIMER_COST_SAMPLE_EVERY", 100))
    return mon


def _before_cursor(conn, cursor, statement, parameters, context, executemany) -> None:
    # Per query, not per request: a request that runs no query pays nothing for this.
    if context is None or not has_request_context():
        return
    timing = request.environ.get(TIMING_KEY)
    if timing is not None:
        context._rt = timing
        context._rt_start = time.perf_counter()


def _after_cursor(conn, cursor, statement, parameters, context, executemany) -> None:
    timing = getattr(context, "_rt", None)
    if timing is not None:
        timing[0] += 1
        timing[1] += (time.perf_counter() - context._rt_start) * 1000.0


def flush(app: Flask) -> int:
    """Write what the timer holds as ``request_stats`` rows; returns how many rows.

    If the database refuses, the counts go back into the timer and the next flush retries.
    """
    mon = _monitor(app)
    queued, began = mon.timer.queued(), time.perf_counter_ns()
    data = mon.timer.drain()
    self_cost.record_fold(time.perf_counter_ns() - began, queued)  # the timer's cost off the request
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
