"""One customer and one order, as their pages and ``/admin/api/customers|orders/<id>`` show them.

A customer is a ``customer_id`` of the transactions (and the ``user_id`` of their activity, as the
conversion figures read it). Their page lists every transaction (paged by cursor, newest first,
through the ``(customer_id, created_at)`` index), completed revenue and orders per currency (money
never added across currencies), when they were first seen (``customer_first_seen``), repeat
purchases (completed orders after the first) and their newest activity.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from services.explore import cursor as cursors
from services.ingest import CustomerFirstSeen, Transaction, UserActivity
from services.ingest.status_history import history
from services.products.lines import order_items

MAX_ID = 64
PAGE_LIMIT = 200
TIMELINE_LIMIT = 50


def usable_id(value: str) -> bool:
    """Whether ``value`` can name a stored id at all (length, no control characters): others
    are simply not found, and never reach the database (PostgreSQL refuses NUL in text)."""
    return 0 < len(value) <= MAX_ID and not any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def transaction_dict(row: Any) -> dict[str, Any]:
    """A transaction row as the explore APIs answer it."""
    return {"id": row.id, "amount_cents": row.amount_cents, "currency": row.currency, "status": row.status,
            "customer_id": row.customer_id, "channel": row.channel, "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at)}


def transactions_page(session: Session, where: list, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of transactions matching ``where``, newest first, and the next page's cursor."""
    after = cursors.decode(cursor, str)
    stmt = select(Transaction).where(*where)
    if after is not None:
        stmt = stmt.where(or_(Transaction.created_at < after[0],
                              and_(Transaction.created_at == after[0], Transaction.id < after[1])))
    rows = session.scalars(stmt.order_by(Transaction.created_at.desc(), Transaction.id.desc())
                           .limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"transactions": [transaction_dict(r) for r in rows],
            "next_cursor": cursors.encode(rows[-1].created_at, rows[-1].id) if more else None}


def customer(session: Session, customer_id: str, *, limit: int = 50,
             cursor: str | None = None) -> dict[str, Any] | None:
    """Everything the customer page shows; None when nothing is stored for ``customer_id``."""
    if not usable_id(customer_id):
        return None
    t = Transaction
    done = case((t.status == "completed", 1), else_=0)
    per_currency = session.execute(
        select(t.currency, func.count(), func.sum(done), func.coalesce(func.sum(done * t.amount_cents), 0),
               func.min(t.created_at), func.max(t.created_at))
        .where(t.customer_id == customer_id).group_by(t.currency).order_by(t.currency)).all()
    activities = session.execute(
        select(UserActivity.id, UserActivity.action, UserActivity.detail, UserActivity.created_at)
        .where(UserActivity.user_id == customer_id)
        .order_by(UserActivity.created_at.desc(), UserActivity.id.desc()).limit(TIMELINE_LIMIT)).all()
    if not per_currency and not activities:
        return None
    first_seen = session.scalar(select(CustomerFirstSeen.first_seen_at)
                                .where(CustomerFirstSeen.customer_id == customer_id))
    orders = sum(int(r[2] or 0) for r in per_currency)
    page = transactions_page(session, [t.customer_id == customer_id], limit, cursor)
    return {
        "customer_id": customer_id,
        "first_seen": _iso(first_seen),
        "last_transaction_at": _iso(max((r[5] for r in per_currency), default=None)),
        "transactions_count": sum(r[1] for r in per_currency),
        "orders": orders,
        "repeat_purchases": max(orders - 1, 0),
        "revenue": [{"currency": r[0], "revenue_cents": int(r[3]), "orders": int(r[2] or 0),
                     "transactions": r[1]} for r in per_currency],
        "activities": [{"id": a.id, "action": a.action, "detail": a.detail, "created_at": _iso(a.created_at)}
                       for a in activities],
        **page,
    }


def order(session: Session, order_id: str) -> dict[str, Any] | None:
    """One transaction with its status history (oldest first) and its lines; None when it is not stored."""
    if not usable_id(order_id):
        return None
    row = session.get(Transaction, order_id)
    if row is None:
        return None
    return {"transaction": {**transaction_dict(row), "received_at": _iso(row.received_at)},
            "history": history(session, order_id),
            "items": order_items(session, order_id)}
