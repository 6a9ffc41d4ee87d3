"""Tables of the panel's own monitoring: system samples and per-minute request figures.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, BigIntPK, UTCDateTime, utcnow


class SystemMetric(Base):
    __tablename__ = "system_metrics"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    host: Mapped[str] = mapped_column(String(128), default="")
    cpu_percent: Mapped[float] = mapped_column(Float)
    memory_percent: Mapped[float] = mapped_column(Float)
    disk_percent: Mapped[float] = mapped_column(Float)
    net_sent_bps: Mapped[float] = mapped_column(Float, default=0.0)
    net_recv_bps: Mapped[float] = mapped_column(Float, default=0.0)
    load_1: Mapped[float | None] = mapped_column(Float)
    load_5: Mapped[float | None] = mapped_column(Float)
    load_15: Mapped[float | None] = mapped_column(Float)
    process_rss_bytes: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_system_metrics_recorded", "recorded_at"),)


class RequestStat(Base):
    """One flush of one process for one minute and endpoint; rows add up across processes."""

    __tablename__ = "request_stats"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime)
    endpoint: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(16), default="app")
    count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    total_ms: Mapped[float] = mapped_column(Float, default=0.0)
    max_ms: Mapped[float] = mapped_column(Float, default=0.0)
    db_queries: Mapped[int] = mapped_column(Integer, default=0)
    db_ms: Mapped[float] = mapped_column(Float, default=0.0)
    # Sparse latency histogram {bucket_index: count} over fixed log-spaced buckets.
    buckets: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    __table_args__ = (
        Index("ix_request_stats_minute", "minute"),
        Index("ix_request_stats_endpoint_minute", "endpoint", "method", "minute"),
    )
