"""Each customer's first transaction time, kept exact on ingest (``customer_first_seen``).

"New" customers are those whose first transaction ever lies in the asked range. Reading that
from this table is one indexed range read; deriving it from the transactions costs one probe
per customer in the range, which grows with the shop.

Ingest moves the table with the transactions it stores, in the same database transaction:

- a transaction stored for the first time lowers its customer's time with an atomic upsert
  (``first_seen_at = min(stored, new)``), so concurrent writers cannot undo each other;
- a transaction that changes customer or ``created_at`` may have been the one that set its old
  customer's time: that customer is recomputed from the ``(customer_id, created_at)`` index
  (one probe), and removed when they have no transaction left.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from services.ingest.models import CustomerFirstSeen, Transaction
from services.ingest.rollups import dialect_insert, fill_once

_TABLE = CustomerFirstSeen.__table__


def _lower(session: Session, firsts: dict[str, datetime]) -> None:
    """Upsert ``customer -> time``, keeping the earlier time where one is stored."""
    if not firsts:
        return
    stmt = dialect_insert(session)(_TABLE)
    stored, offered = _TABLE.c.first_seen_at, stmt.excluded.first_seen_at
    stmt = stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.customer_id],
        set_={"first_seen_at": case((offered < stored, offered), else_=stored)},
    )
    # Sorted: every writer takes the row locks in the same order (no deadlocks on PostgreSQL).
    session.execute(stmt, [{"customer_id": cid, "first_seen_at": firsts[cid]} for cid in sorted(firsts)])


def _recompute(session: Session, customers: Iterable[str]) -> None:
    """Set each customer's time from their stored transactions (delete when none are left)."""
    for cid in sorted(set(customers)):
        first = session.scalar(select(func.min(Transaction.created_at)).where(Transaction.customer_id == cid))
        if first is None:
            session.execute(delete(CustomerFirstSeen).where(CustomerFirstSeen.customer_id == cid))
            continue
        # An upsert, not delete + insert: a concurrent writer's upsert of the same customer
        # then waits for this row instead of colliding with it.
        stmt = dialect_insert(session)(_TABLE).values(customer_id=cid, first_seen_at=first)
        session.execute(stmt.on_conflict_do_update(index_elements=[_TABLE.c.customer_id],
                                                   set_={"first_seen_at": stmt.excluded.first_seen_at}))


def record(session: Session, moves: Iterable[tuple[Mapping[str, Any] | None, Mapping[str, Any]]]) -> None:
    """Account for stored transactions, each ``(old or None, new)``, after they were written."""
    firsts: dict[str, datetime] = {}
    stale: set[str] = set()
    for old, new in moves:
        cid = new.get("customer_id")
        if cid is not None:
            known = firsts.get(cid)
            if known is None or new["created_at"] < known:
                firsts[cid] = new["created_at"]
        if old is not None and old.get("customer_id") is not None and (
                old["customer_id"] != cid or old["created_at"] != new["created_at"]):
            stale.add(old["customer_id"])
    _lower(session, firsts)
    if stale:
        _recompute(session, stale)


def recompute(session: Session) -> dict[str, datetime]:
    """What the table must hold, from the raw transactions."""
    stmt = (select(Transaction.customer_id, func.min(Transaction.created_at))
            .where(Transaction.customer_id.is_not(None)).group_by(Transaction.customer_id))
    return {cid: first for cid, first in session.execute(stmt)}


def current(session: Session) -> dict[str, datetime]:
    """The table as stored."""
    return {cid: first for cid, first in session.execute(select(_TABLE.c.customer_id, _TABLE.c.first_seen_at))}


def rebuild(session: Session) -> int:
    """Refill the table from the raw transactions in the session's transaction; returns rows.

    The caller holds writers off (``rollups.rebuild`` before it, in the same transaction,
    does) and commits.
    """
    session.execute(delete(CustomerFirstSeen))
    session.execute(insert(CustomerFirstSeen).from_select(
        ["customer_id", "first_seen_at"],
        select(Transaction.customer_id, func.min(Transaction.created_at))
        .where(Transaction.customer_id.is_not(None)).group_by(Transaction.customer_id)))
    return session.scalar(select(func.count()).select_from(CustomerFirstSeen)) or 0


def fill_if_empty(session: Session) -> int:
    """Fill the table once for a database that has transactions from before it existed."""
    return fill_once(session, _TABLE, select(Transaction.id).where(Transaction.customer_id.is_not(None)),
                     rebuild)
