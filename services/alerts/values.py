"""The values alert rules compare: catalogue metrics, and the few figures that cannot be one.

Rules of kind ``metric`` (every shipped rule on system, request and payment figures among
them) read any catalogue metric through ``services.metrics.window_stats``, the same engine for
the panel's own figures and pushed ones. The special evaluators left here each watch something
no catalogue series holds: the database probe (timed on the tick itself, and its failures
happen exactly when nothing can be stored), the 95th percentile of all requests (a percentile
of a window needs the merged histograms, not per-minute values), the time since the newest
completed transaction, and revenue against the same hour of past weeks (both compare with a
baseline from other times, which a reducer over one window cannot express). Everything here is
cheap on purpose (it runs on every scheduler tick).

Two kinds of "no number": ``None`` means the data is missing (no sample yet, no snapshot part),
and a rule on it neither fires nor clears; ``NOT_APPLICABLE`` (NaN, which compares false with
everything) means the situation the rule watches is not there (no traffic, so nothing is slow;
no baseline to fall below), so an open alert clears.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from database import UTCDateTime
from services.ingest.models import CurrencyRollup, Transaction
from services.infra import breaker as circuit_breaker

log = logging.getLogger(__name__)
BUCKET = timedelta(minutes=15)
NOT_APPLICABLE = math.nan
# Payments whose outcome is known: the failed-payment share is failed over these.
SETTLED_STATUSES = ("completed", "failed", "refunded")


class DbProbe:
    """Times a trivial query per tick and remembers recent failures (kept in memory, so a
    failure seen while the database was down still fires once it accepts writes again)."""

    def __init__(self, keep: int = 1000):
        self._failures: deque[datetime] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def measure(self, session: Session, now: datetime) -> float | None:
        """Round-trip time of ``SELECT 1`` in ms, or None (and a failure noted) when it fails."""
        started = time.perf_counter()
        try:
            session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            circuit_breaker.log_failure(log, "the database check of alert evaluation", exc)
            self.note_failure(now)
            return None
        return (time.perf_counter() - started) * 1000.0

    def note_failure(self, when: datetime) -> None:
        """Count one failed database check at ``when``."""
        with self._lock:
            self._failures.append(when)

    def failures_since(self, since: datetime) -> int:
        """How many failed checks happened at or after ``since``."""
        with self._lock:
            return sum(1 for t in self._failures if t >= since)


@dataclass
class MetricContext:
    """One evaluation's inputs; values are memoised so two rules on one metric cost one query."""

    session: Session
    snapshot: dict[str, Any]
    now: datetime
    probe: DbProbe
    _memo: dict[tuple, float | None] = field(default_factory=dict)
    cache: dict = field(default_factory=dict)  # what readers share within one evaluation

    def value(self, metric: str, params: dict[str, Any] | None) -> float | None:
        """The current value of ``metric`` with the rule's ``params``."""
        params = {k: v for k, v in (params or {}).items() if k != "key" and not k.startswith("_")}
        key = (metric, tuple(sorted(params.items())))
        if key not in self._memo:
            reader = READERS.get(metric)
            self._memo[key] = reader(self, **params) if reader else None
        return self._memo[key]


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _section(ctx: MetricContext, name: str) -> dict[str, Any]:
    part = (ctx.snapshot or {}).get(name)
    return part if isinstance(part, dict) else {}


def _requests(field_name: str, scale: float = 1.0) -> Callable[[MetricContext], float | None]:
    def read(ctx: MetricContext) -> float | None:
        section = _section(ctx, "requests")
        if not section:
            return None
        # Without traffic nothing is slow and nothing fails.
        if _num(section.get("rpm")) == 0:
            return NOT_APPLICABLE
        value = _num(section.get(field_name))
        return None if value is None else value * scale
    return read


def db_latency_ms(ctx: MetricContext) -> float | None:
    """The snapshot's database latency when it carries one, else our own timed ``SELECT 1``."""
    value = _num(_section(ctx, "database").get("latency_ms"))
    return value if value is not None else ctx.probe.measure(ctx.session, ctx.now)


def db_connection_failures(ctx: MetricContext, window_minutes: int = 5) -> float | None:
    """Failed database checks in the last ``window_minutes``."""
    if _num(_section(ctx, "database").get("latency_ms")) is None:
        # Make sure this tick contributes a check even when no latency rule ran first.
        ctx.value("db_latency_ms", None)
    return float(ctx.probe.failures_since(ctx.now - timedelta(minutes=window_minutes)))


def _floor_bucket(when: datetime) -> datetime:
    return when.replace(minute=when.minute - when.minute % 15, second=0, microsecond=0)


# Built once: composing a statement costs more than running it on a few rollup rows.
_SUMS = (select(func.coalesce(func.sum(CurrencyRollup.completed), 0),
                func.coalesce(func.sum(CurrencyRollup.failed), 0),
                func.coalesce(func.sum(CurrencyRollup.refunded), 0),
                func.coalesce(func.sum(CurrencyRollup.revenue_cents), 0))
         .where(CurrencyRollup.bucket_start >= bindparam("start", type_=UTCDateTime),
                CurrencyRollup.bucket_start < bindparam("end", type_=UTCDateTime)))
_LAST_COMPLETED = select(func.max(Transaction.created_at)).where(Transaction.status == "completed")


def _rollup_sums(ctx: MetricContext, start: datetime, end: datetime) -> dict[str, int]:
    """Sums of the rollup counters over buckets starting in [start, end)."""
    row = ctx.session.execute(_SUMS, {"start": start, "end": end}).one()
    return {"completed": int(row[0]), "failed": int(row[1]), "refunded": int(row[2]),
            "revenue_cents": int(row[3])}


def minutes_since_completed(ctx: MetricContext) -> float | None:
    """Minutes since the newest completed transaction, but only when the same hour last week
    had completed ones (otherwise a quiet night is normal: not applicable)."""
    hour = ctx.now.replace(minute=0, second=0, microsecond=0) - timedelta(days=7)
    if _rollup_sums(ctx, hour, hour + timedelta(hours=1))["completed"] == 0:
        return NOT_APPLICABLE
    latest = ctx.session.scalar(_LAST_COMPLETED)
    if latest is None:
        return (ctx.now - hour).total_seconds() / 60.0
    if latest.tzinfo is None:  # MAX() bypasses the column type on some drivers
        latest = latest.replace(tzinfo=ctx.now.tzinfo)
    return max(0.0, (ctx.now - latest).total_seconds() / 60.0)


def revenue_vs_baseline(ctx: MetricContext, weeks: int = 4) -> float | None:
    """Revenue of the last complete hour (four whole buckets) as a percentage of the same hour
    averaged over the previous ``weeks`` weeks; not applicable when that baseline is zero."""
    end = _floor_bucket(ctx.now)
    start = end - timedelta(hours=1)
    # One tiny primary-key range per week (a single OR-ed query defeats SQLite's index use).
    baseline = sum(_rollup_sums(ctx, start - timedelta(weeks=k), end - timedelta(weeks=k))["revenue_cents"]
                   for k in range(1, weeks + 1)) / weeks
    if baseline <= 0:
        return NOT_APPLICABLE
    return 100.0 * _rollup_sums(ctx, start, end)["revenue_cents"] / baseline


def catalog_metric(ctx: MetricContext, name: str, match: str = "", reducer: str = "last",
                   window_seconds: int = 300, min_count: int = 0, no_data: str = "keep") -> float | None:
    """Any catalogue metric (pushed or built-in), ``reducer`` over the last ``window_seconds``.

    An empty window is None (neither fires nor clears) or, with ``no_data`` "ok", not
    applicable (clears: no traffic means nothing is slow). Fewer than ``min_count`` points is
    not applicable either: two failed payments out of three is noise, not an outage.
    """
    from services import metrics

    value, count = metrics.window_stats(ctx.session, {}, name, metrics.parse_matchers(match), reducer,
                                        int(window_seconds), ctx.now, ctx.cache)
    if value is None:
        return NOT_APPLICABLE if no_data == "ok" else None
    return NOT_APPLICABLE if count < min_count else value


def metric_no_data(ctx: MetricContext, name: str, match: str = "") -> float | None:
    """Minutes since the newest point of the matching series; not applicable for a series that
    never reported (nothing stopped)."""
    from services import metrics

    seen = metrics.last_seen(ctx.session, name, metrics.parse_matchers(match))
    if seen is None:
        return NOT_APPLICABLE
    return max(0.0, (ctx.now - seen).total_seconds() / 60.0)


READERS: dict[str, Callable[..., float | None]] = {
    "metric": catalog_metric,
    "metric_no_data": metric_no_data,
    "p95_response_ms": _requests("p95_ms"),
    "db_latency_ms": db_latency_ms,
    "db_connection_failures": db_connection_failures,
    "minutes_since_completed": minutes_since_completed,
    "revenue_vs_baseline": revenue_vs_baseline,
}
