"""The monitors' figures in the metrics catalogue: ``monitor_up``, ``monitor_latency_ms``,
``monitor_failures``, ``uptime_24h`` / ``uptime_7d`` / ``uptime_30d`` (one series per monitor),
``db_pool_usage_percent`` / ``db_connections_percent`` / ``redis_clients_percent`` (database and
redis monitors) and ``monitors_down`` (one series: how many monitors are down).

Labels are ``monitor`` (its name) plus the monitor's own labels, so a rule or a query selects
monitors the way the Services page shows them. In the catalogue ``monitor_up`` is the monitor's
state (1 up, 0 down, none while pending or paused); over a range it is, per minute bucket (at
its start), the share of checks that succeeded (0..1) and ``monitor_latency_ms`` their average
time, from the minute rollups (kept ``RETENTION_DAYS_MONITOR_MINUTES`` days). An uptime is a trailing figure, known at the monitor's
last check only, and so are the pool, connection and client percentages. ``monitor_failures`` is
the failures in a row now; over a range each minute's failed checks, so ``sum`` over a window is
the failed checks in the minutes starting in it. ``monitors_down`` over a range is rebuilt from the state changes: the count
at the window's start and after each change.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from services.checks import storage
from services.checks.models import MINUTE, Monitor, MonitorEvent, MonitorRollup
from services.checks.values import current_values
from services.metrics.catalogue import SeriesRows, entry, provider_for, register, rows_of

Keep = Callable[[dict[str, str]], bool]
UNITS = {"monitor_up": None, "monitor_latency_ms": "ms", "monitor_failures": None,
         "uptime_24h": "percent", "uptime_7d": "percent", "uptime_30d": "percent"}
# Figures of the last check of database and redis monitors (absent on other kinds).
LAST_CHECK = {"db_pool_usage_percent": "percent", "db_connections_percent": "percent",
              "redis_clients_percent": "percent"}
DOWN = "monitors_down"


def _labels(monitor: Monitor) -> dict[str, str]:
    return {"monitor": monitor.name, **{str(k): str(v) for k, v in (monitor.labels or {}).items()}}


class MonitorProvider:
    """Per monitor: up (1/0), the last check's response time, and uptime % over 24 h, 7 d, 30 d."""

    names = (*UNITS, *LAST_CHECK, DOWN)

    def catalog(self, session: Session, now: datetime, config: dict) -> list[dict[str, Any]]:
        out, down = [], 0
        for item in current_values(session, now):
            per_minute = 60.0 / item["interval_seconds"] if item["interval_seconds"] else 0.0
            down += item["values"].get("monitor_up") == 0
            for name, unit in (*UNITS.items(), *LAST_CHECK.items()):
                value = item["values"].get(name)
                if name in LAST_CHECK and value is None:
                    continue
                out.append(entry(name, item["labels"], "gauge", unit,
                                 None if value is None else float(value), item["last_checked_at"],
                                 per_minute))
        out.append(entry(DOWN, {}, "gauge", None, float(down), now, 1.0))
        return out

    def fetch(self, session, name, start, end, step, keep: Keep, config):
        monitors = {m.id: m for m in session.scalars(select(Monitor).order_by(Monitor.name))
                    if keep(_labels(m))}
        if not monitors:
            return "raw", []
        if name == DOWN:
            return "raw", _down_counts(session, start, end, monitors)
        if name.startswith("uptime_"):
            return "last", self._uptimes(session, name, start, end, monitors)
        if name in LAST_CHECK:
            return "last", _last_check(name, start, end, monitors)
        # Ranges read the minute buckets (raw rows keep failures only): one point per minute
        # at its start, the share of checks up, their average time, or their failures.
        per: dict[int, list] = defaultdict(list)
        for mid, at, checks, up, count, total in session.execute(
                select(MonitorRollup.monitor_id, MonitorRollup.bucket_start, MonitorRollup.checks,
                       MonitorRollup.up, MonitorRollup.latency_count, MonitorRollup.latency_sum_ms)
                .where(MonitorRollup.monitor_id.in_(list(monitors)), MonitorRollup.resolution == MINUTE,
                       MonitorRollup.bucket_start >= storage.bucket_start(start, MINUTE),
                       MonitorRollup.bucket_start < end).order_by(MonitorRollup.bucket_start)):
            if name == "monitor_latency_ms":
                value = total / count if count else None
            elif name == "monitor_failures":
                value = float(checks - up)
            else:
                value = up / checks if checks else None
            if value is not None:
                per[mid].append((at, float(value)))
        return "raw", [SeriesRows(name, _labels(monitors[mid]), "gauge", UNITS[name], rows_of(rows))
                       for mid, rows in per.items()]

    @staticmethod
    def _uptimes(session, name, start, end, monitors) -> list[SeriesRows]:
        figures = storage.uptimes(session, list(monitors), utcnow())
        out = []
        for mid, m in monitors.items():
            value = (figures.get(mid) or {}).get(name)
            at = m.last_checked_at
            if value is not None and at is not None and start <= at < end:
                out.append(SeriesRows(name, _labels(m), "gauge", "percent", rows_of([(at, float(value))])))
        return out


def _last_check(name: str, start, end, monitors: dict[int, Monitor]) -> list[SeriesRows]:
    """A database or redis monitor's percentage at its last check, when that lies in the range."""
    source = {"db_pool_usage_percent": "pool_usage_percent",
              "db_connections_percent": "connections_percent",
              "redis_clients_percent": "clients_percent"}[name]
    out = []
    for m in monitors.values():
        value, at = (m.last_detail or {}).get(source), m.last_checked_at
        if value is not None and at is not None and start <= at < end:
            out.append(SeriesRows(name, _labels(m), "gauge", "percent", rows_of([(at, float(value))])))
    return out


def _down_counts(session: Session, start, end, monitors: dict[int, Monitor]) -> list[SeriesRows]:
    """How many of ``monitors`` were down at ``start`` and after each state change up to ``end``.

    A monitor's state at ``start`` is where its last earlier change led; without one, where its
    first change in the range came from (or its state now, when it never changed).
    """
    ids = list(monitors)
    before: dict[int, str] = {}
    for mid, to_state in session.execute(
            select(MonitorEvent.monitor_id, MonitorEvent.to_state)
            .where(MonitorEvent.monitor_id.in_(ids), MonitorEvent.at < start)
            .order_by(MonitorEvent.at, MonitorEvent.id)):
        before[mid] = to_state
    changes = list(session.execute(
        select(MonitorEvent.monitor_id, MonitorEvent.at, MonitorEvent.from_state, MonitorEvent.to_state)
        .where(MonitorEvent.monitor_id.in_(ids), MonitorEvent.at >= start, MonitorEvent.at < end)
        .order_by(MonitorEvent.at, MonitorEvent.id)))
    now_state = dict(before)
    for mid, _at, from_state, _to in changes:
        now_state.setdefault(mid, from_state)
    for mid, m in monitors.items():
        now_state.setdefault(mid, m.state)
    # The opening count holds over the whole range, so it is stamped just inside it: windows
    # (services.metrics.window) count points after their start, not at it.
    points = [(start + timedelta(microseconds=1), float(sum(s == "down" for s in now_state.values())))]
    for mid, at, _from, to_state in changes:
        now_state[mid] = to_state
        points.append((at, float(sum(s == "down" for s in now_state.values()))))
    return [SeriesRows(DOWN, {}, "gauge", None, rows_of(points))]


def register_providers() -> None:
    """Put the monitors' figures in the catalogue (once per process)."""
    if provider_for(MonitorProvider.names[0]) is None:
        register(MonitorProvider())
