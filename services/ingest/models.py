"""Tables of ingest: transactions and user activity as posted, and the tables kept from them
(15-minute rollups, each customer's first transaction).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, BigIntPK, UTCDateTime, utcnow


class Transaction(Base):
    __tablename__ = "transactions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        Index("ix_transactions_created", "created_at"),
        Index("ix_transactions_status_created", "status", "created_at"),
        Index("ix_transactions_customer_created", "customer_id", "created_at"),
        Index("ix_transactions_updated", "updated_at"),
    )


class _RollupCounts:
    """The counters of a 15-minute rollup row: transactions per status, completed revenue."""

    completed: Mapped[int] = mapped_column(BigInteger, default=0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    failed: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_cents: Mapped[int] = mapped_column(BigInteger, default=0)


def _covering(name: str) -> Index:
    # One currency's range is read from the index alone, without a table lookup per row.
    return Index(name, "currency", "bucket_start", "revenue_cents", "completed", "pending", "failed",
                 "refunded")


class RevenueRollup(_RollupCounts, Base):
    """15-minute buckets per currency and channel ('' when none), kept exact on ingest."""

    __tablename__ = "revenue_rollups"
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    __table_args__ = (_covering("ix_revenue_rollups_currency_bucket"),)


class CurrencyRollup(_RollupCounts, Base):
    """The same 15-minute buckets with every channel summed, per currency, kept exact on ingest.

    What reads revenue without caring for channels (the revenue chart, the live snapshot, the
    timeline, the alert rules, /metrics) reads this: one row per quarter hour and currency
    instead of one per channel too.
    """

    __tablename__ = "currency_rollups"
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    __table_args__ = (_covering("ix_currency_rollups_currency_bucket"),)


class CustomerFirstSeen(Base):
    """When each customer's first transaction (any status) happened, kept on ingest.

    New-versus-returning needs "first transaction ever" per customer; this table answers it with
    one indexed range read instead of a probe into the transactions per customer.
    """

    __tablename__ = "customer_first_seen"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_customer_first_seen_at", "first_seen_at"),)


class UserActivity(Base):
    __tablename__ = "user_activity"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        Index("ix_activity_created", "created_at"),
        Index("ix_activity_user_created", "user_id", "created_at"),
        Index("ix_activity_action_created", "action", "created_at"),
    )
