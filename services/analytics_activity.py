"""Recent transactions and user activity: status counts, the live feed, active users, a heatmap.

These read raw rows over short windows (minutes) through the indexes on
``created_at``; the heatmap groups activity into 15-minute slots in the database
first, so Python only places at most 96 slots per day into the local
weekday-by-hour grid, whatever the traffic.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, desc, func, select, text
from sqlalchemy.orm import Session

from database import Transaction, UserActivity

STATUSES = ("completed", "pending", "failed", "refunded")
SLOT_SECONDS = 15 * 60


def transactions(session: Session, now: datetime, minutes: int, limit: int) -> dict[str, Any]:
    """Counts per status and completed revenue per currency of the transactions created in
    the last ``minutes``, and the ``limit`` newest of them."""
    since = now - timedelta(minutes=minutes)
    t = Transaction
    window = (t.created_at >= since, t.created_at <= now)
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in session.execute(select(t.status, func.count()).where(*window)
                                     .group_by(t.status)):
        counts[status] = int(n)
    revenue = {code: int(total or 0) for code, total in session.execute(
        select(t.currency, func.sum(t.amount_cents))
        .where(*window, t.status == "completed").group_by(t.currency))}
    latest = session.scalars(select(t).where(*window)
                             .order_by(desc(t.created_at), desc(t.id)).limit(limit))
    return {
        "minutes": minutes,
        "since": since.isoformat(),
        "until": now.isoformat(),
        "counts": {**counts, "total": sum(counts.values())},
        "revenue_cents": dict(sorted(revenue.items())),
        "transactions": [_transaction_json(row) for row in latest],
    }


def _transaction_json(row: Transaction) -> dict[str, Any]:
    return {"id": row.id, "amount_cents": row.amount_cents, "currency": row.currency,
            "status": row.status, "customer_id": row.customer_id, "channel": row.channel,
            "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}


def user_activity(session: Session, now: datetime, minutes: int, limit: int, tz: ZoneInfo,
                  heatmap_days: int) -> dict[str, Any]:
    """Who was active in the last ``minutes`` and what they did, plus a heatmap.

    ``active_users`` counts distinct users; ``recent`` is the ``limit`` newest
    actions (times in ``tz``); ``heatmap[weekday][hour]`` counts the actions of the
    last ``heatmap_days`` days by local weekday (Monday = 0) and hour.
    """
    since = now - timedelta(minutes=minutes)
    a = UserActivity
    window = (a.created_at >= since, a.created_at <= now)
    active = session.scalar(select(func.count(func.distinct(a.user_id))).where(*window)) or 0
    by_action = [{"action": action, "count": int(n)} for action, n in session.execute(
        select(a.action, func.count()).where(*window).group_by(a.action)
        .order_by(desc(func.count()), a.action))]
    recent = [{"user_id": row.user_id, "action": row.action, "detail": row.detail,
               "created_at": row.created_at.astimezone(tz).isoformat()}
              for row in session.scalars(select(a).where(*window)
                                         .order_by(desc(a.created_at), desc(a.id)).limit(limit))]
    heat_since = now - timedelta(days=heatmap_days)
    return {
        "minutes": minutes,
        "since": since.astimezone(tz).isoformat(),
        "until": now.astimezone(tz).isoformat(),
        "tz": str(tz.key),
        "active_users": int(active),
        "actions": sum(item["count"] for item in by_action),
        "by_action": by_action,
        "recent": recent,
        "heatmap": heatmap(session, heat_since, now, tz),
        "heatmap_since": heat_since.astimezone(tz).isoformat(),
        "heatmap_days": heatmap_days,
    }


def heatmap(session: Session, since: datetime, until: datetime, tz: ZoneInfo) -> list[list[int]]:
    """7 x 24 activity counts by local weekday (Monday = 0) and local hour over [since, until]."""
    grid = [[0] * 24 for _ in range(7)]
    for slot, n in _activity_slots(session, since, until):
        local = datetime.fromtimestamp(int(slot), timezone.utc).astimezone(tz)
        grid[local.weekday()][local.hour] += int(n)
    return grid


def _activity_slots(session: Session, since: datetime, until: datetime):
    """(epoch seconds of the 15-minute slot, count) rows; every zone offset is whole quarters."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        slot = (f"(CAST(floor(extract(epoch FROM created_at)) AS BIGINT) / {SLOT_SECONDS})"
                f" * {SLOT_SECONDS}")
    else:
        slot = f"(CAST(strftime('%s', created_at) AS INTEGER) / {SLOT_SECONDS}) * {SLOT_SECONDS}"
    # Bind through the column type so both backends get the naive UTC value they store.
    col = UserActivity.__table__.c.created_at.type
    stmt = text(f"SELECT {slot} AS slot, COUNT(*) FROM user_activity "
                "WHERE created_at >= :since AND created_at <= :until GROUP BY 1")
    stmt = stmt.bindparams(bindparam("since", since, type_=col), bindparam("until", until, type_=col))
    return session.execute(stmt).all()
