"""The audit trail: who did what, from where, with what outcome. Append-only."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.accounts.models import AuditLog
from services.infra import storable


def _storable(text: str | None) -> str | None:
    return None if text is None else storable(text)


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
    """Add one audit entry to ``session`` (the caller commits with its own work).

    ``actor`` and ``target`` may come from a request (a refused user name, a download path);
    characters no database stores are replaced, so a hostile request is still recorded.
    """
    entry = AuditLog(
        action=action, actor=_storable(actor), ip=ip,
        target=(target or None) and _storable(target[:255]), outcome=outcome, detail=detail,
    )
    session.add(entry)
    return entry
