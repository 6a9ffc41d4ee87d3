"""Tables of pushed metrics: series, raw points, per-minute and per-hour rollups, refusals.

A series is one metric name with one set of labels (kept as canonical JSON and its hash, so
the unique key is short). Raw points live 48 hours; the rollups keep, per series and bucket,
what every reducer needs (count, sum, min, max, last and, for counters, the increase with
resets taken into account), so a query reads one row per bucket however many points came in.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, BigIntPK, UTCDateTime, utcnow


class MetricSeries(Base):
    """One metric name with one label set; ``last_*`` are the newest point, for the catalogue."""

    __tablename__ = "metric_series"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    labels_hash: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_value: Mapped[float | None] = mapped_column(Float)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("name", "labels_hash", name="uq_metric_series_name_labels"),)


class MetricPoint(Base):
    """One pushed point. ``increase`` is a counter's rise since its previous point (a reset
    counts from zero), None for gauges."""

    __tablename__ = "metric_points"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float] = mapped_column(Float)
    increase: Mapped[float | None] = mapped_column(Float)
    # One index only (each one costs every insert): queries and the prune read per series.
    __table_args__ = (Index("ix_metric_points_series_ts", "series_id", "ts"),)


class _Rollup:
    """Columns of a rollup bucket; ``last_at`` decides which point is the last one."""

    series_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    sum: Mapped[float] = mapped_column(Float, default=0.0)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    last: Mapped[float] = mapped_column(Float)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    increase: Mapped[float] = mapped_column(Float, default=0.0)


class MetricMinute(_Rollup, Base):
    """Per-minute rollup of one series (kept 30 days by default)."""

    __tablename__ = "metric_minute"
    __table_args__ = (Index("ix_metric_minute_bucket", "bucket"),)


class MetricHour(_Rollup, Base):
    """Per-hour rollup of one series (kept 400 days by default)."""

    __tablename__ = "metric_hour"
    __table_args__ = (Index("ix_metric_hour_bucket", "bucket"),)


class MetricRefusal(Base):
    """Points refused because their name already had ``METRIC_MAX_SERIES`` label sets."""

    __tablename__ = "metric_refusals"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    refused: Mapped[int] = mapped_column(BigInteger, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
