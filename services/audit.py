"""The audit trail: who did what, from where, with what outcome. Append-only."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from database import AuditLog


def record(
    session: Session,
    action: str,
    *,
    actor: str | None,
    ip: str | None,
    target: str | None = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Add one audit entry to ``session`` (the caller commits with its own work)."""
    entry = AuditLog(
        action=action, actor=actor, ip=ip, target=(target or None) and target[:255],
        outcome=outcome, detail=detail,
    )
    session.add(entry)
    return entry
