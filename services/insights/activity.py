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

from services.ingest import Transaction, UserActivity
from services.infra import cache as cache_manager

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
    recent = [{"id": row.id, "user_id": row.user_id, "action": row.action, "detail": row.detail,
               "created_at": row.created_at.astimezone(tz).isoformat()}
              for row in session.scalars(select(a).where(*window)
                                         .order_by(desc(a.created_at), desc(a.id)).limit(limit))]
    hour = now.replace(minute=0, second=0, microsecond=0)
    heat_since = hour - timedelta(days=heatmap_days)
    return {
        "minutes": minutes,
        "since": since.astimezone(tz).isoformat(),
        "until": now.astimezone(tz).isoformat(),
        "tz": str(tz.key),
        "active_users": int(active),
        "actions": sum(item["count"] for item in by_action),
        "by_action": by_action,
        "recent": recent,
        "heatmap": _add(_past_heatmap(session, heat_since, hour, tz),
                        heatmap(session, hour, now, tz, include_end=True)),
        "heatmap_since": heat_since.astimezone(tz).isoformat(),
        "heatmap_days": heatmap_days,
    }


def _past_heatmap(session: Session, since: datetime, hour: datetime, tz: ZoneInfo) -> list[list[int]]:
    """The heatmap of the complete hours before ``hour``, cached in the ``history`` namespace.

    Weeks of activity are the expensive part, and new activity lands in the current
    hour (read live each time), so ingest does not invalidate this; the entry is
    replaced when the hour turns or its TTL ends (which also bounds how long a
    late-arriving old row can be missing).
    """
    key = ("heatmap", tz.key, since, hour)
    return cache_manager.get_or_compute("history", key, lambda: heatmap(session, since, hour, tz))


def _add(a: list[list[int]], b: list[list[int]]) -> list[list[int]]:
    return [[x + y for x, y in zip(row_a, row_b)] for row_a, row_b in zip(a, b)]


def heatmap(session: Session, since: datetime, until: datetime, tz: ZoneInfo,
            include_end: bool = False) -> list[list[int]]:
    """7 x 24 activity counts by local weekday (Monday = 0) and local hour over [since, until)
    (or [since, until] with ``include_end``)."""
    grid = [[0] * 24 for _ in range(7)]
    for slot, n in _activity_slots(session, since, until, include_end, _whole_hours(tz, since, until)):
        local = slot.astimezone(tz)
        grid[local.weekday()][local.hour] += int(n)
    return grid


def _whole_hours(tz: ZoneInfo, since: datetime, until: datetime) -> bool:
    """Whether local hours start on UTC hours over the range (true of most zones)."""
    return all((tz.utcoffset(moment) or timedelta(0)) % timedelta(hours=1) == timedelta(0)
               for moment in (since, until))


def _activity_slots(session: Session, since: datetime, until: datetime, include_end: bool,
                    hourly: bool) -> list[tuple[datetime, int]]:
    """(UTC slot start, count) rows: per UTC hour when ``hourly`` (a cheap string cut on
    SQLite), otherwise per 15 minutes, which every zone offset in use is a multiple of."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        slot = ("date_trunc('hour', created_at)" if hourly else
                f"to_timestamp((CAST(floor(extract(epoch FROM created_at)) AS BIGINT) / {SLOT_SECONDS})"
                f" * {SLOT_SECONDS}) AT TIME ZONE 'UTC'")
    elif hourly:
        slot = "substr(created_at, 1, 13) || ':00:00'"
    else:
        slot = (f"datetime((CAST(strftime('%s', created_at) AS INTEGER) / {SLOT_SECONDS})"
                f" * {SLOT_SECONDS}, 'unixepoch')")
    # Bind through the column type so both backends get the naive UTC value they store.
    col = UserActivity.__table__.c.created_at.type
    end_op = "<=" if include_end else "<"
    stmt = text(f"SELECT {slot} AS slot, COUNT(*) FROM user_activity "
                f"WHERE created_at >= :since AND created_at {end_op} :until GROUP BY 1")
    stmt = stmt.bindparams(bindparam("since", since, type_=col), bindparam("until", until, type_=col))
    return [(_utc(value), n) for value, n in session.execute(stmt)]


def _utc(value: Any) -> datetime:
    """A slot start from either backend as aware UTC (SQLite answers text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
