"""The ``live_update`` snapshot, built once per tick and sent to every admin.

Each part is one cheap query whose cost does not grow with the business: the last hour of
transactions reads the 15-minute rollups (plus at most one partial quarter-hour of raw rows
at the window's start), requests read the per-minute histograms, the system part is the
latest sample.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from database import utcnow
from services.alerts import Alert
from services.ingest import CurrencyRollup, Transaction, UserActivity
from services.monitor import performance_monitor
from services.monitor import stats as performance_stats
from services.ingest import rollups

RECENT_LIMIT = 10
SYSTEM_KEYS = ("cpu_percent", "memory_percent", "disk_percent", "net_sent_bps", "net_recv_bps")
STATUSES = ("completed", "pending", "failed", "refunded")


def build(app: Flask, session: Session, seq: int, now: datetime | None = None) -> dict[str, Any]:
    """The contract's ``live_update`` payload (JSON-ready) with sequence number ``seq``."""
    given = now
    now = now or utcnow()
    cfg = app.config
    snap = {
        "seq": seq,
        "timestamp": None,
        "system": system_part(app, session),
        "requests": performance_stats.request_summary(
            session, int(cfg.get("LIVE_REQUEST_WINDOW_MINUTES", 5)), now),
        "transactions": {"last_hour": last_hour(session, now),
                         "recent": recent_transactions(session)},
        "active_users": active_users(session, now, int(cfg.get("ACTIVE_USER_MINUTES", 5))),
        "alerts": {"firing": firing_alerts(session)},
    }
    # Stamped once every figure is read: the data is as of this moment, and a client can tell
    # how long the push took to reach it.
    snap["timestamp"] = (given or utcnow()).isoformat()
    return snap


def system_part(app: Flask, session: Session) -> dict[str, Any]:
    """The latest sample's percentages and network rates (None before the first sample)."""
    latest = performance_monitor.latest_sample(app, session)
    part: dict[str, Any] = {key: (latest or {}).get(key) for key in SYSTEM_KEYS}
    part["sampled_at"] = latest["recorded_at"].isoformat() if latest else None
    return part


def last_hour(session: Session, now: datetime) -> dict[str, Any]:
    """Counts by status and completed revenue of transactions created in the last 60 minutes.

    Counts add up across currencies (``completed`` is the hour's orders); revenue never does:
    ``revenue_cents`` is the main currency's, every currency is in ``revenue_by_currency``.

    Whole quarter-hours come from the rollups; the slice between ``now - 1h`` and the first
    whole quarter-hour comes from the raw rows (at most 15 minutes of them).
    """
    since = now - timedelta(hours=1)
    first_bucket = rollups.bucket_start(since)
    if first_bucket < since:
        first_bucket += timedelta(seconds=rollups.BUCKET_SECONDS)
    counts = {status: 0 for status in STATUSES}
    revenue: dict[str, int] = defaultdict(int)
    r = CurrencyRollup
    stmt = (select(r.currency, *(func.sum(getattr(r, status)) for status in STATUSES),
                   func.sum(r.revenue_cents))
            .where(r.bucket_start >= first_bucket)
            .group_by(r.currency))
    for currency, *status_counts, cents in session.execute(stmt):
        for status, n in zip(STATUSES, status_counts):
            counts[status] += int(n or 0)
        revenue[currency] += int(cents or 0)
    completed_cents = case((Transaction.status == "completed", Transaction.amount_cents), else_=0)
    edge = (select(Transaction.currency, Transaction.status, func.count(),
                   func.sum(completed_cents))
            .where(Transaction.created_at >= since, Transaction.created_at < first_bucket)
            .group_by(Transaction.currency, Transaction.status))
    for currency, status, n, cents in session.execute(edge):
        if status in counts:
            counts[status] += int(n)
        revenue[currency] += int(cents or 0)
    # Amounts in different currencies never add up; the headline is the main currency's.
    currency = max(revenue, key=lambda c: (revenue[c], c)) if revenue else None
    return {**counts, "revenue_cents": revenue.get(currency, 0) if currency else 0,
            "currency": currency,
            "revenue_by_currency": {c: v for c, v in sorted(revenue.items()) if v}}


def transaction_json(tx: Transaction) -> dict[str, Any]:
    """A transaction as the ``transaction.stored`` announcement shapes it."""
    return {"id": tx.id, "amount_cents": tx.amount_cents, "currency": tx.currency,
            "status": tx.status, "customer_id": tx.customer_id, "channel": tx.channel,
            "created_at": tx.created_at.isoformat(), "updated_at": tx.updated_at.isoformat()}


def recent_transactions(session: Session, limit: int = RECENT_LIMIT) -> list[dict[str, Any]]:
    """The newest transactions, newest first."""
    rows = session.scalars(select(Transaction).order_by(Transaction.created_at.desc(),
                                                        Transaction.id.desc()).limit(limit))
    return [transaction_json(tx) for tx in rows]


def active_users(session: Session, now: datetime, minutes: int = 5) -> int:
    """Distinct users with any activity in the last ``minutes``."""
    since = now - timedelta(minutes=minutes)
    return int(session.scalar(select(func.count(func.distinct(UserActivity.user_id)))
                              .where(UserActivity.created_at >= since)) or 0)


def firing_alerts(session: Session) -> int:
    """How many alerts are firing now."""
    return int(session.scalar(select(func.count(Alert.id)).where(Alert.status == "firing")) or 0)
