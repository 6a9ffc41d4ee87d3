"""The monitors' figures in the metrics catalogue: ``monitor_up``, ``monitor_latency_ms`` and
``uptime_24h`` / ``uptime_7d`` / ``uptime_30d``, one series per monitor.

Labels are ``monitor`` (its name) plus the monitor's own labels, so a rule or a query selects
monitors the way the Services page shows them. In the catalogue ``monitor_up`` is the monitor's
state (1 up, 0 down, none while pending or paused); over a range it is each check's outcome (1
succeeded, 0 failed) and ``monitor_latency_ms`` each check's time, from the raw results (kept
``RETENTION_DAYS_MONITOR_RESULTS`` days). An uptime is a trailing figure, known at the monitor's
last check only.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from services.checks import storage
from services.checks.models import Monitor, MonitorResult
from services.checks.values import current_values
from services.metrics.catalogue import SeriesRows, entry, provider_for, register, rows_of

Keep = Callable[[dict[str, str]], bool]
UNITS = {"monitor_up": None, "monitor_latency_ms": "ms", "uptime_24h": "percent",
         "uptime_7d": "percent", "uptime_30d": "percent"}


def _labels(monitor: Monitor) -> dict[str, str]:
    return {"monitor": monitor.name, **{str(k): str(v) for k, v in (monitor.labels or {}).items()}}


class MonitorProvider:
    """Per monitor: up (1/0), the last check's response time, and uptime % over 24 h, 7 d, 30 d."""

    names = tuple(UNITS)

    def catalog(self, session: Session, now: datetime, config: dict) -> list[dict[str, Any]]:
        out = []
        for item in current_values(session, now):
            per_minute = 60.0 / item["interval_seconds"] if item["interval_seconds"] else 0.0
            for name, unit in UNITS.items():
                value = item["values"].get(name)
                out.append(entry(name, item["labels"], "gauge", unit,
                                 None if value is None else float(value), item["last_checked_at"],
                                 per_minute))
        return out

    def fetch(self, session, name, start, end, step, keep: Keep, config):
        monitors = {m.id: m for m in session.scalars(select(Monitor).order_by(Monitor.name))
                    if keep(_labels(m))}
        if not monitors:
            return "raw", []
        if name.startswith("uptime_"):
            return "last", self._uptimes(session, name, start, end, monitors)
        column = MonitorResult.latency_ms if name == "monitor_latency_ms" else MonitorResult.ok
        per: dict[int, list] = defaultdict(list)
        for monitor_id, at, value in session.execute(
                select(MonitorResult.monitor_id, MonitorResult.at, column)
                .where(MonitorResult.monitor_id.in_(list(monitors)), MonitorResult.at >= start,
                       MonitorResult.at < end).order_by(MonitorResult.at)):
            if value is not None:
                per[monitor_id].append((at, float(value)))
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


def register_providers() -> None:
    """Put the monitors' figures in the catalogue (once per process)."""
    if provider_for(MonitorProvider.names[0]) is None:
        register(MonitorProvider())
