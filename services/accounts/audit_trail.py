"""Reading the audit trail back: filters and keyset paging, newest first. Never writes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from services.accounts.models import AuditLog
from services.logs import LogQueryError, decode_cursor, encode_cursor

MAX_LIMIT = 500
OUTCOMES = ("success", "failure", "denied", "invalid", "expired")


@dataclass
class AuditFilters:
    """Exact actor, action (``export`` also matches ``export.*``), outcome, and a time range."""

    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def query_audit(session: Session, filters: AuditFilters, *, limit: int = 100,
                cursor: str | None = None) -> tuple[list[AuditLog], str | None]:
    """One page of entries, newest first, and the cursor of the next (older) page or None."""
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = select(AuditLog)
    if filters.actor:
        stmt = stmt.where(AuditLog.actor == filters.actor)
    if filters.action:
        if "." in filters.action:
            stmt = stmt.where(AuditLog.action == filters.action)
        else:
            stmt = stmt.where((AuditLog.action == filters.action)
                              | AuditLog.action.startswith(filters.action + ".", autoescape=True))
    if filters.outcome:
        stmt = stmt.where(AuditLog.outcome == filters.outcome)
    if filters.since:
        stmt = stmt.where(AuditLog.created_at >= filters.since)
    if filters.until:
        stmt = stmt.where(AuditLog.created_at <= filters.until)
    if cursor:
        stmt = stmt.where(tuple_(AuditLog.created_at, AuditLog.id) < tuple_(*decode_cursor(cursor)))
    stmt = stmt.order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
    return rows, next_cursor


def to_dict(row: AuditLog) -> dict[str, Any]:
    """An audit entry as the API sends it."""
    return {"id": row.id, "created_at": row.created_at.isoformat(), "actor": row.actor, "ip": row.ip,
            "action": row.action, "target": row.target, "outcome": row.outcome, "detail": row.detail}


__all__ = ["AuditFilters", "LogQueryError", "query_audit", "to_dict", "OUTCOMES"]
