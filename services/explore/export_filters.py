"""A drill-down's filters carried into an export (``POST /admin/api/export`` with ``filters``), so
the file holds exactly the rows the drill-down lists.

The export service keeps its columns and its streaming; this module turns the drill-down
parameters into the window the file covers and the SQL conditions its source adds.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from services.explore import rows
from services.explore.cursor import ExploreParamError
from services.explore.window import Window, read
from services.ingest import UserActivity
from services.logs import LogEntry
from services.logs import query as logs
from services.monitor import RequestStat

# Export data type -> drill-down kind.
KINDS = {"transactions": "transactions", "activity": "activities", "logs": "logs", "performance": "requests"}
MAX_KEYS = 24


def clean(data_type: str, filters: Any, now: datetime) -> tuple[dict[str, str], Window]:
    """The filters as plain strings and the window they name; ExploreParamError when unusable."""
    if data_type not in KINDS:
        raise ExploreParamError(f"filters apply to {', '.join(KINDS)} only", "filters")
    if not isinstance(filters, dict) or len(filters) > MAX_KEYS or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 200 for k, v in filters.items()):
        raise ExploreParamError("filters must be an object of at most 24 texts", "filters")
    kept = {k: v for k, v in filters.items() if k not in ("cursor", "limit")}
    window = read(kept, now)
    conditions(data_type, kept, window)  # refuses a bad status, currency, level… now, not at download
    return kept, window


def conditions(data_type: str, filters: Mapping[str, str], window: Window) -> list:
    """The SQL conditions of ``filters`` on the table ``data_type`` exports."""
    kind = KINDS[data_type]
    if kind == "transactions":
        return rows.transaction_where(filters, window)
    if kind == "activities":
        return [rows.in_window(UserActivity.created_at, window),
                *[col == filters[name] for name, col in (("user", UserActivity.user_id),
                                                        ("action", UserActivity.action)) if filters.get(name)]]
    if kind == "requests":
        return [rows.in_window(RequestStat.minute, window),
                *[getattr(RequestStat, n) == filters[n] for n in rows.TEXT_FILTERS["requests"] if filters.get(n)]]
    try:
        parsed = logs.LogFilters.from_mapping(filters)
    except logs.LogQueryError as exc:
        raise ExploreParamError(exc.message, exc.field) from None
    where = [rows.in_window(LogEntry.created_at, window)]
    if parsed.min_level:
        where.append(LogEntry.level_no >= parsed.min_level)
    if parsed.service:
        where.append(LogEntry.service == parsed.service)
    if parsed.q:
        where.append(LogEntry.message.icontains(parsed.q, autoescape=True))
    return where


def where_for(data_type: str, filters: Mapping[str, str], now: datetime) -> list:
    """At download: the conditions again, from the filters signed into the link."""
    return conditions(data_type, filters, read(filters, now))


__all__ = ["KINDS", "clean", "conditions", "where_for"]
