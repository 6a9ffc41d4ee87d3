"""Tables of the service monitors: the monitors, their raw results and the rollups of those.

Raw results (failures and state changes only) are kept for a short window
(``RETENTION_DAYS_MONITOR_RESULTS``, 3 days by default); uptime and response times over longer windows come from per-minute, per-hour and
per-day rollups, one row per monitor and bucket, so storage grows with monitors and time, not
with the check rate (raw heartbeats are what grow a monitoring database to gigabytes).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, BigIntPK, UTCDateTime, utcnow

KINDS = ("http", "tcp", "push", "database", "redis")
STATES = ("pending", "up", "down")
# Rollup resolutions, in seconds.
MINUTE, HOUR, DAY = 60, 3600, 86400
RESOLUTIONS = (MINUTE, HOUR, DAY)


class Monitor(Base):
    """One watched service: what to check (``kind`` + ``config``), how often, and its state."""

    __tablename__ = "monitors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Kind-specific settings (url, method, headers, statuses, keyword, json_path, host, port...).
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=60)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=10.0)
    failure_threshold: Mapped[int] = mapped_column(Integer, default=3)
    recovery_threshold: Mapped[int] = mapped_column(Integer, default=2)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("monitors.id", ondelete="SET NULL"))
    labels: Mapped[dict] = mapped_column(JSON, default=dict)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # Push monitors only: the secret part of the heartbeat URL.
    push_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_push_status: Mapped[str | None] = mapped_column(String(8))
    last_push_message: Mapped[str | None] = mapped_column(String(500))
    # State machine (services.checks.state).
    state: Mapped[str] = mapped_column(String(16), default="pending")
    state_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_successes: Mapped[int] = mapped_column(Integer, default=0)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_latency_ms: Mapped[float | None] = mapped_column(Float)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Figures of the last check (pool use, connections, TLS days left...).
    last_detail: Mapped[dict | None] = mapped_column(JSON)
    # The open monitor-down alert (alerts.id), while there is one.
    alert_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MonitorResult(Base):
    """A failed check or one that changed the state, kept for a few days (successes live in the
    rollups only): small on purpose (no bodies, short errors)."""

    __tablename__ = "monitor_results"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(200))
    __table_args__ = (Index("ix_monitor_results_monitor_at", "monitor_id", "at"),
                      Index("ix_monitor_results_at", "at"))


class MonitorRollup(Base):
    """Checks, successes, response-time sum/max (and histogram) of one monitor in one bucket.

    ``resolution`` is the bucket length in seconds (60, 3600 or 86400); ``latency_count`` counts
    the checks that measured a response time (a refused connection has none).
    """

    __tablename__ = "monitor_rollups"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    resolution: Mapped[int] = mapped_column(Integer)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime)
    checks: Mapped[int] = mapped_column(Integer, default=0)
    up: Mapped[int] = mapped_column(Integer, default=0)
    latency_count: Mapped[int] = mapped_column(Integer, default=0)
    latency_sum_ms: Mapped[float] = mapped_column(Float, default=0.0)
    latency_max_ms: Mapped[float | None] = mapped_column(Float)
    # Response-time histogram, compact text (services.checks.histogram); hour buckets only.
    latency_hist: Mapped[str | None] = mapped_column(String(400))
    # The unique key is the only index: the daily prune (by resolution and age) scans the
    # table once a day, cheaper than a second index on every row (~45 bytes of ~100).
    __table_args__ = (UniqueConstraint("monitor_id", "resolution", "bucket_start",
                                       name="uq_monitor_rollups_bucket"),)


class MonitorEvent(Base):
    """A state change of a monitor (the detail view's history)."""

    __tablename__ = "monitor_events"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(String(500))
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (Index("ix_monitor_events_monitor_at", "monitor_id", "at"),)
