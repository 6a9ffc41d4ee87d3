"""Each transaction's status history, kept by ingest in the batch's own database transaction.

Rules (README "Order status history"):

- a transaction stored for the first time gets one row: its status, ``at`` its ``updated_at``
  (its ``created_at`` when none was sent);
- a send that changes the status adds one row at the new ``updated_at`` (now, when the send
  carries none); several sends of one id in one batch add one row per status change, in order;
- a re-send with the same status (whatever else it changes) adds nothing;
- a stale send (``updated_at`` older than the stored one) is ignored by the transaction and by
  its history alike, so the newest history row is always the transaction's current status.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.infra import bulk
from services.ingest.status_models import TransactionStatusChange

_TABLE = TransactionStatusChange.__table__


def changes(old: Mapping[str, Any] | None, steps: Sequence[Mapping[str, Any]],
            received_at: datetime) -> list[dict[str, Any]]:
    """The history rows for one transaction going from ``old`` through ``steps`` (each state
    after one send of the batch; a stale or identical send repeats the state before it)."""
    rows: list[dict[str, Any]] = []
    status = old["status"] if old is not None else None
    for state in steps:
        if state["status"] != status:
            status = state["status"]
            rows.append({"transaction_id": state["id"], "status": status, "at": state["updated_at"],
                         "received_at": received_at})
    return rows


def record(session: Session, walks: Iterable[tuple[Mapping[str, Any] | None, Sequence[Mapping[str, Any]]]],
           received_at: datetime) -> int:
    """Insert the status changes of stored transactions, each ``(old or None, steps)``; returns
    how many rows were added."""
    rows = [row for old, steps in walks for row in changes(old, steps, received_at)]
    if rows:
        bulk.insert(session, _TABLE, rows)
    return len(rows)


def history(session: Session, transaction_id: str, limit: int = 500) -> list[dict[str, Any]]:
    """A transaction's status changes, oldest first (at most ``limit``, the newest ones)."""
    col = TransactionStatusChange
    stmt = (select(col.status, col.at, col.received_at).where(col.transaction_id == transaction_id)
            .order_by(col.at.desc(), col.id.desc()).limit(limit))
    found = session.execute(stmt).all()
    return [{"status": r.status, "at": r.at.isoformat(), "received_at": r.received_at.isoformat()}
            for r in reversed(found)]
