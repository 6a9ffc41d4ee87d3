"""Reading request and system metrics back: per endpoint, per minute, and the live summary.

Percentiles always come from merged histogram buckets, so rows of several processes and
several flushes of the same minute add up exactly as counts do. Cost grows with the window
asked for, never with the number of requests served.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from services.monitor.models import RequestStat, SystemMetric
from services.monitor import histogram
from services.monitor.request_timer import Accumulator

SYSTEM_FIELDS = ("cpu_percent", "memory_percent", "disk_percent", "net_sent_bps", "net_recv_bps",
                 "load_1", "load_5", "load_15", "process_rss_bytes")


def _floor_minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _window(minutes: int, now: datetime | None) -> tuple[datetime, datetime, float]:
    """(first minute included, now, minutes elapsed since it): the partial current minute counts."""
    now = now or utcnow()
    since = _floor_minute(now) - timedelta(minutes=minutes - 1)
    elapsed = max((now - since).total_seconds() / 60.0, 1 / 60)
    return since, now, elapsed


class _Totals(Accumulator):
    """Stored rows merged with the request timer's own arithmetic, plus their read-out."""

    def summary(self, elapsed_minutes: float) -> dict[str, Any]:
        p50, p95, p99 = histogram.percentiles(self.buckets, (0.5, 0.95, 0.99), self.max_ms or None)
        n = self.count
        return {
            "count": n,
            "errors": self.errors,
            "rpm": round(n / elapsed_minutes, 2),
            "avg_ms": round(self.total_ms / n, 2) if n else None,
            "p50_ms": _round(p50), "p95_ms": _round(p95), "p99_ms": _round(p99),
            "max_ms": round(self.max_ms, 2) if n else None,
            "error_rate": round(self.errors / n, 4) if n else 0.0,
            "db_queries_per_request": round(self.db_queries / n, 2) if n else None,
            "db_ms_per_request": round(self.db_ms / n, 2) if n else None,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _rows(session: Session, since: datetime, label: str | None = None, exclude: tuple[str, ...] = (),
          until: datetime | None = None):
    stmt = select(RequestStat.minute, RequestStat.endpoint, RequestStat.method, RequestStat.label,
                  RequestStat.count, RequestStat.errors, RequestStat.total_ms, RequestStat.max_ms,
                  RequestStat.db_queries, RequestStat.db_ms, RequestStat.buckets
                  ).where(RequestStat.minute >= since)
    if label:
        stmt = stmt.where(RequestStat.label == label)
    if exclude:
        stmt = stmt.where(RequestStat.label.not_in(exclude))
    if until is not None:
        stmt = stmt.where(RequestStat.minute <= until)
    return session.execute(stmt)


def request_summary(session: Session, minutes: int = 5, now: datetime | None = None) -> dict[str, Any]:
    """All requests of the last ``minutes``: ``rpm, avg_ms, p95_ms, error_rate`` (live card)."""
    since, _, elapsed = _window(minutes, now)
    totals = _Totals()
    for row in _rows(session, since):
        totals.merge(row)
    full = totals.summary(elapsed)
    return {"rpm": full["rpm"], "avg_ms": full["avg_ms"], "p95_ms": full["p95_ms"],
            "error_rate": full["error_rate"]}


def endpoint_stats(session: Session, minutes: int = 60, now: datetime | None = None,
                   label: str | None = None, exclude: tuple[str, ...] = (), past: bool = False) -> dict[str, Any]:
    """Per endpoint (busiest first) and per minute over the last ``minutes`` (without the
    ``exclude`` labels)."""
    since, now, elapsed = _window(minutes, now)
    per_endpoint: dict[tuple[str, str, str], _Totals] = defaultdict(_Totals)
    per_minute: dict[datetime, _Totals] = defaultdict(_Totals)
    overall = _Totals()
    # A window in the past (a comparison) stops at its own end.
    for row in _rows(session, since, label, exclude, until=now if past else None):
        per_endpoint[(row.endpoint, row.method, row.label)].merge(row)
        per_minute[row.minute].merge(row)
        overall.merge(row)
    endpoints = [{"endpoint": ep, "method": method, "label": lab, **totals.summary(elapsed)}
                 for (ep, method, lab), totals in per_endpoint.items()]
    endpoints.sort(key=lambda e: (-e["count"], e["endpoint"], e["method"]))
    timeline = []
    for i in range(minutes):
        minute = since + timedelta(minutes=i)
        if minute > now:
            break
        totals = per_minute.get(minute) or _Totals()
        point = totals.summary(1.0)
        timeline.append({"minute": minute.isoformat(), "count": point["count"],
                         "rpm": point["count"], "avg_ms": point["avg_ms"],
                         "p50_ms": point["p50_ms"], "p95_ms": point["p95_ms"],
                         "p99_ms": point["p99_ms"], "error_rate": point["error_rate"]})
    return {"minutes": minutes, "since": since.isoformat(), "until": now.isoformat(),
            "summary": overall.summary(elapsed), "endpoints": endpoints, "timeline": timeline}


def system_series(session: Session, minutes: int = 60, now: datetime | None = None,
                  limit: int = 5000) -> dict[str, Any]:
    """System samples of the last ``minutes``, oldest first (at most ``limit`` newest)."""
    now = now or utcnow()
    since = now - timedelta(minutes=minutes)
    rows = session.scalars(select(SystemMetric).where(SystemMetric.recorded_at >= since)
                           .order_by(SystemMetric.recorded_at.desc()).limit(limit)).all()
    points = [{"recorded_at": r.recorded_at.isoformat(), "host": r.host,
               **{f: getattr(r, f) for f in SYSTEM_FIELDS}} for r in reversed(rows)]
    return {"minutes": minutes, "since": since.isoformat(), "until": now.isoformat(),
            "points": points}
