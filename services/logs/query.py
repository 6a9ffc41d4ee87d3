"""Log aggregation: the panel's own records (see ``log_handler``) and other services' logs.

Queries page by keyset cursor over (created_at, id), newest first, never OFFSET:
each page is one index range scan, so its cost does not grow with the table.
A minimum-level filter runs one indexed query per standard level and merges
them, because ``level_no >= x ORDER BY created_at`` cannot walk one index in order.
"""
from __future__ import annotations

import base64
import heapq
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from services.logs.models import LogEntry
from services.infra import MAX_INT, InputError, ascii_int, check_text
from services.logs.handler import STANDARD_LEVELS, install
from services.logs.writer import entry_payload

LEVEL_NAMES = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40,
               "critical": 50, "fatal": 50}
MAX_LIMIT = 500
# A numeric level is a logging level number: CRITICAL is 50, custom levels sit below 100.
MAX_LEVEL_NO = 100


class LogQueryError(InputError):
    """A filter or cursor is malformed; the message and ``field`` say which."""


def level_number(name: str | int | None) -> int | None:
    """``"warning"`` → 30; numbers (ASCII digits, 0-100) pass through; None/'' → None; else raise."""
    if name is None or name == "":
        return None
    text = str(name).strip()
    if isinstance(name, int) or (text.isascii() and text.isdigit()):
        try:
            return ascii_int(name, "level", 0, MAX_LEVEL_NO)
        except InputError as exc:
            raise LogQueryError(exc.message, "level") from None
    # Names are compared in ASCII only: no Unicode case folding turns something else into one.
    level = LEVEL_NAMES.get(text.lower()) if text.isascii() else None
    if level is None:
        raise LogQueryError(f"unknown level {name!r}; use one of debug, info, warning, error, critical",
                            "level")
    return level


def encode_cursor(created_at: datetime, row_id: int) -> str:
    """An opaque cursor for the row after which the next page starts."""
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Inverse of ``encode_cursor``; LogQueryError when it was not made by it."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, row_id = raw.split("|")
        created_at = datetime.fromisoformat(when)
        if created_at.tzinfo is None:
            raise ValueError("naive time")
        # An id in ASCII digits that a bigint column holds: anything else was not made here.
        return created_at, ascii_int(row_id, "cursor", 0, MAX_INT)
    except (ValueError, UnicodeDecodeError):  # InputError is a ValueError
        raise LogQueryError("cursor is not valid; start again without it", "cursor") from None


@dataclass
class LogFilters:
    """What a reader asks for; shared by the API query and the live tail."""

    min_level: int | None = None
    service: str | None = None
    q: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> "LogFilters":
        """Build from request args or a socket payload (strings); LogQueryError on bad values.

        Each text is capped (``input_checks.QUERY_CAPS``) and free of control characters, the
        same for the API and the live tail.
        """
        def text(key):
            value = data.get(key)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise LogQueryError(f"{key} must be a string", key)
            try:
                value = check_text(str(value), key).strip()
            except InputError as exc:
                raise LogQueryError(exc.message, key) from None
            return value or None

        return cls(min_level=level_number(text("level")), service=text("service"), q=text("q"))

    def matches(self, payload: dict[str, Any]) -> bool:
        """Whether a "log.stored" payload passes these filters (the live tail's check)."""
        level_no = payload.get("level_no")
        if level_no is None:
            level_no = LEVEL_NAMES.get(str(payload.get("level", "")).lower(), 0)
        if self.min_level is not None and level_no < self.min_level:
            return False
        if self.service is not None and payload.get("service") != self.service:
            return False
        if self.q is not None and self.q.lower() not in str(payload.get("message", "")).lower():
            return False
        return True


def _base_query(filters: LogFilters, after: tuple[datetime, int] | None, limit: int):
    stmt = select(LogEntry)
    if filters.service:
        stmt = stmt.where(LogEntry.service == filters.service)
    if filters.since:
        stmt = stmt.where(LogEntry.created_at >= filters.since)
    if filters.until:
        stmt = stmt.where(LogEntry.created_at <= filters.until)
    if filters.q:
        stmt = stmt.where(LogEntry.message.icontains(filters.q, autoescape=True))
    if after is not None:
        stmt = stmt.where(tuple_(LogEntry.created_at, LogEntry.id) < tuple_(*after))
    return stmt.order_by(LogEntry.created_at.desc(), LogEntry.id.desc()).limit(limit)


def query_logs(session: Session, filters: LogFilters, *, limit: int = 100,
               cursor: str | None = None) -> tuple[list[LogEntry], str | None]:
    """One page of entries, newest first, and the cursor of the next (older) page or None."""
    limit = max(1, min(limit, MAX_LIMIT))
    after = decode_cursor(cursor) if cursor else None
    levels = ([lvl for lvl in STANDARD_LEVELS if lvl >= filters.min_level]
              if filters.min_level and filters.min_level > STANDARD_LEVELS[0] else None)
    if levels is None:
        rows = list(session.scalars(_base_query(filters, after, limit + 1)))
    else:
        # One index range scan per level, merged newest first.
        per_level = [list(session.scalars(_base_query(filters, after, limit + 1)
                                          .where(LogEntry.level_no == lvl)))
                     for lvl in levels]
        merged = heapq.merge(*per_level, key=lambda r: (r.created_at, r.id), reverse=True)
        rows = [row for _, row in zip(range(limit + 1), merged)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
    return rows, next_cursor


def page(session: Session, filters: LogFilters, *, limit: int = 100,
         cursor: str | None = None) -> dict[str, Any]:
    """One page as the API answers it: ``{"logs": [...], "next_cursor"}``."""
    rows, next_cursor = query_logs(session, filters, limit=limit, cursor=cursor)
    return {"logs": [to_dict(row) for row in rows], "next_cursor": next_cursor}


def to_dict(row: LogEntry) -> dict[str, Any]:
    """A log entry as the API and the live tail send it."""
    return entry_payload(row)


def init_app(app) -> None:
    """Send the panel's own logging through the non-blocking handler.

    On by default; off under TESTING unless ``LOG_CAPTURE`` is set, so tests of
    other parts never find stray rows in ``log_entries``.
    """
    enabled = app.config.get("LOG_CAPTURE")
    if enabled is None:
        enabled = not app.config.get("TESTING")
    if enabled:
        install(app)
        logging.getLogger(__name__).debug("panel log capture on")
