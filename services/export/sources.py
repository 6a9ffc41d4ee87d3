"""What each export data type contains: its columns and a row generator over a time range.

Raw tables are read on a streaming cursor (server-side on PostgreSQL, an
incremental fetch on SQLite), so a million rows never sit in memory at once.
Revenue reads the rollups through the analytics service, alerts through the
alert history, so an export shows the same numbers as the pages.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.ingest import Transaction, UserActivity
from services.logs import LogEntry
from services.metrics.models import MetricMinute, MetricSeries
from services.monitor import RequestStat, SystemMetric
from services.export.formats import Column
from services.monitor import histogram
from services.alerts import alert_history
from services.insights import revenue as analytics
from services.products import exports as product_exports

YIELD_PER = 2000


def _stream(session: Session, stmt) -> Iterator[tuple]:
    # Core rows on a streaming cursor (server-side on PostgreSQL), at most YIELD_PER buffered:
    # half the cost of ORM rows per row, and memory flat whatever the row count.
    conn = session.connection().execution_options(stream_results=True, max_row_buffer=YIELD_PER)
    yield from conn.execute(stmt)


def transactions(session: Session, start: datetime, end: datetime, opts: dict) -> Iterator[tuple]:
    t = Transaction
    stmt = (select(t.id, t.created_at, t.updated_at, t.status, t.amount_cents,
                   t.amount_cents.label("amount"), t.currency, t.customer_id, t.channel)
            .where(t.created_at >= start, t.created_at < end, *opts.get("where", ())).order_by(t.created_at, t.id))
    return _stream(session, stmt)


def activity(session: Session, start: datetime, end: datetime, opts: dict) -> Iterator[tuple]:
    a = UserActivity
    stmt = (select(a.id, a.created_at, a.user_id, a.action, a.detail)
            .where(a.created_at >= start, a.created_at < end, *opts.get("where", ())).order_by(a.created_at, a.id))
    return _stream(session, stmt)


def metrics(session: Session, start: datetime, end: datetime, _opts: dict) -> Iterator[tuple]:
    m = SystemMetric
    stmt = (select(m.recorded_at, m.host, m.cpu_percent, m.memory_percent, m.disk_percent,
                   m.net_sent_bps, m.net_recv_bps, m.load_1, m.load_5, m.load_15, m.process_rss_bytes)
            .where(m.recorded_at >= start, m.recorded_at < end).order_by(m.recorded_at, m.id))
    return _stream(session, stmt)


def performance(session: Session, start: datetime, end: datetime, opts: dict) -> Iterator[tuple]:
    r = RequestStat
    stmt = (select(r.minute, r.endpoint, r.method, r.count, r.errors, r.total_ms, r.max_ms,
                   r.db_queries, r.db_ms, r.buckets)
            .where(r.minute >= start, r.minute < end, *opts.get("where", ()))
            .order_by(r.minute, r.endpoint, r.method, r.id))
    for minute, endpoint, method, count, errors, total_ms, max_ms, dbq, db_ms, buckets in _stream(session, stmt):
        p50, p95, p99 = histogram.percentiles(buckets or {}, max_ms=max_ms)
        yield (minute, endpoint, method, count, errors,
               round(total_ms / count, 3) if count else None, p50, p95, p99, max_ms, dbq, db_ms)


def custom_metrics(session: Session, start: datetime, end: datetime, _opts: dict) -> Iterator[tuple]:
    """Pushed series' per-minute rollups in the range: one row per series and minute."""
    m, s = MetricMinute, MetricSeries
    stmt = (select(s.name, s.labels, m.bucket, m.count, m.sum, m.min, m.max, m.last)
            .join(s, s.id == m.series_id)
            .where(m.bucket >= start, m.bucket < end).order_by(m.bucket, s.name, s.id))
    for name, labels, minute, count, total, low, high, last in _stream(session, stmt):
        # Labels as one JSON object (keys sorted), so a spreadsheet keeps one column for them.
        yield (name, json.dumps(labels or {}, sort_keys=True, ensure_ascii=False), minute, count,
               total, low, high, last)


def logs(session: Session, start: datetime, end: datetime, opts: dict) -> Iterator[tuple]:
    e = LogEntry
    stmt = (select(e.id, e.created_at, e.level, e.service, e.logger, e.message)
            .where(e.created_at >= start, e.created_at < end, *opts.get("where", ())).order_by(e.created_at, e.id))
    return _stream(session, stmt)


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def alerts(session: Session, start: datetime, end: datetime, _opts: dict) -> Iterator[tuple]:
    for a in alert_history(session, {"since": start, "until": end}):
        yield (a["id"], _parse(a["started_at"]), _parse(a["fired_at"]), a["rule"], a["metric"],
               a["severity"], a["status"], a["title"], a["value"], a["worst_value"], a["threshold"],
               _parse(a["acknowledged_at"]), a["acknowledged_by"], a["ack_note"],
               _parse(a["resolved_at"]), a["resolved_by"], a["resolve_note"], a["auto_resolved"])


def revenue(session: Session, start: datetime, end: datetime, opts: dict) -> Iterator[tuple]:
    buckets = analytics.plan(opts.get("period") or "hourly", start, end, opts.get("tz"), end)
    first = analytics.revenue(session, buckets)
    codes = [c["currency"] for c in first["currencies"]]
    for code in codes:
        result = first if code == first["currency"] else analytics.revenue(session, buckets, code)
        for b in result["buckets"]:
            yield (datetime.fromisoformat(b["start"]), code, b["revenue_cents"], b["revenue_cents"],
                   b["transactions"], b["completed"], b["pending"], b["failed"], b["refunded"])


def _cols(*spec: str | tuple) -> list[Column]:
    return [Column(s) if isinstance(s, str) else Column(*s) for s in spec]


# data type → (columns, row generator, sheet name)
SOURCES: dict[str, tuple[list[Column], Callable[[Session, datetime, datetime, dict], Iterator[tuple]]]] = {
    "transactions": (_cols("id", ("created_at", "time"), ("updated_at", "time"), "status",
                           ("amount_cents", "int"), ("amount", "money", "currency"), "currency",
                           "customer_id", "channel"), transactions),
    "revenue": (_cols(("bucket_start", "time"), "currency", ("revenue_cents", "int"),
                      ("revenue", "money", "currency"), ("transactions", "int"), ("completed", "int"),
                      ("pending", "int"), ("failed", "int"), ("refunded", "int")), revenue),
    "activity": (_cols(("id", "int"), ("created_at", "time"), "user_id", "action", "detail"), activity),
    "metrics": (_cols(("recorded_at", "time"), "host", ("cpu_percent", "float"),
                      ("memory_percent", "float"), ("disk_percent", "float"), ("net_sent_bps", "float"),
                      ("net_recv_bps", "float"), ("load_1", "float"), ("load_5", "float"),
                      ("load_15", "float"), ("process_rss_bytes", "int")), metrics),
    "performance": (_cols(("minute", "time"), "endpoint", "method", ("count", "int"), ("errors", "int"),
                          ("avg_ms", "float"), ("p50_ms", "float"), ("p95_ms", "float"),
                          ("p99_ms", "float"), ("max_ms", "float"), ("db_queries", "int"),
                          ("db_ms", "float")), performance),
    "custom_metrics": (_cols("name", "labels", ("minute", "time"), ("count", "int"), ("sum", "float"),
                             ("min", "float"), ("max", "float"), ("last", "float")), custom_metrics),
    "logs": (_cols(("id", "int"), ("created_at", "time"), "level", "service", "logger", "message"), logs),
    "alerts": (_cols(("id", "int"), ("started_at", "time"), ("fired_at", "time"), "rule", "metric",
                     "severity", "status", "title", ("value", "float"), ("worst_value", "float"),
                     ("threshold", "float"), ("acknowledged_at", "time"), "acknowledged_by", "ack_note",
                     ("resolved_at", "time"), "resolved_by", "resolve_note", ("auto_resolved", "bool")),
               alerts),
}


# The catalogue's own data types (orders with their lines, products with stock and range sales).
SOURCES.update(product_exports.SOURCES)


def describe() -> dict[str, Any]:
    """Data types and their column names (for the page and the API's errors)."""
    return {name: [c.name for c in cols] for name, (cols, _) in SOURCES.items()}
