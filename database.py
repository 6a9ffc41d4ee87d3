"""Database: engine and sessions per app, the schema (typed models) in one place.

SQLite is the embedded default (WAL, busy_timeout, foreign keys on every
connection); PostgreSQL works through ``postgresql+psycopg://``. Times are stored
as naive UTC and come back as aware UTC on both, so services compare them freely.
Money is integer minor units.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from flask import Flask, current_app, g
from sqlalchemy import (
    JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
    create_engine, event, text,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

BigIntPK = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    # Flask-Login's id: rotated on logout and password change, so old cookies die.
    session_token: Mapped[str] = mapped_column(String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    is_authenticated, is_anonymous = True, False  # Flask-Login protocol

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class LoginSession(Base):
    """One login (a browser's cookie): begun when, last used over HTTP when (idle timeout)."""
    __tablename__ = "login_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
    """The same 15-minute buckets with every channel summed, per currency, kept exact on ingest:
    what reads revenue without caring for channels reads one row per quarter hour and currency."""

    __tablename__ = "currency_rollups"
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    __table_args__ = (_covering("ix_currency_rollups_currency_bucket"),)


class CustomerFirstSeen(Base):
    """When each customer's first transaction (any status) happened, kept on ingest, so
    new-versus-returning is one indexed range read instead of a probe per customer."""

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


class AlertRule(Base):
    __tablename__ = "alert_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    metric: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float] = mapped_column(Float)
    for_seconds: Mapped[int] = mapped_column(Integer, default=0)
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # {"team": "ml", ...}
    annotations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # summary, runbook_url...


_OPEN = "status IN ('pending', 'firing', 'acknowledged')"
_OPEN_ONLY = {"sqlite_where": text(_OPEN), "postgresql_where": text(_OPEN)}


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"))
    rule_name: Mapped[str] = mapped_column(String(120))
    metric: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    title: Mapped[str] = mapped_column(String(255))
    value: Mapped[float | None] = mapped_column(Float)
    worst_value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)  # None for alerts raised from code
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    ack_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolve_note: Mapped[str | None] = mapped_column(Text)
    auto_resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # the rule's, at opening
    annotations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    source_key: Mapped[str | None] = mapped_column(String(200))  # raised from code: its dedup key
    __table_args__ = (
        Index("ix_alerts_status_started", "status", "started_at"),
        Index("ix_alerts_rule_status", "rule_id", "status"),
        Index("ix_alerts_started", "started_at"),
        # At most one open alert per rule, enforced by the database on SQLite and PostgreSQL alike.
        Index("uq_alerts_open_rule", "rule_id", unique=True, **_OPEN_ONLY),
        Index("uq_alerts_open_key", "source_key", unique=True, **_OPEN_ONLY),  # one per code key, too
    )


class AlertNotification(Base):
    __tablename__ = "alert_notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    group_key: Mapped[str | None] = mapped_column(String(255))  # rows sent as one message share it
    __table_args__ = (
        Index("ix_alert_notifications_alert", "alert_id"),
        Index("ix_alert_notifications_status", "status"),
    )


class LogEntry(Base):
    __tablename__ = "log_entries"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    level: Mapped[str] = mapped_column(String(10))
    level_no: Mapped[int] = mapped_column(Integer)
    service: Mapped[str] = mapped_column(String(64))
    logger: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        Index("ix_logs_created_id", "created_at", "id"),
        Index("ix_logs_level_created", "level_no", "created_at", "id"),
        Index("ix_logs_service_created", "service", "created_at", "id"),
        # Service and minimum level together: one range scan per level (services.logs).
        Index("ix_logs_service_level_created", "service", "level_no", "created_at", "id"),
    )


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (
        Index("ix_audit_created", "created_at", "id"),
        Index("ix_audit_actor_created", "actor", "created_at"),
        Index("ix_audit_action_created", "action", "created_at"),
    )


@dataclass
class DatabaseState:
    """What ``init_app`` keeps on ``app.extensions['database']``."""

    engine: Engine
    session_factory: sessionmaker


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def make_engine(url: str, instance_path: str | None = None, **options: Any) -> Engine:
    """Create an engine for ``url``; relative SQLite paths live under the working directory."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options.setdefault("connect_args", {"check_same_thread": False, "timeout": 10})
        engine = create_engine(parsed, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options.setdefault("pool_pre_ping", True)
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    return create_engine(parsed, **options)


def init_app(app: Flask) -> None:
    """Bind an engine to ``app``, create the tables, close request sessions at teardown."""
    engine = make_engine(app.config["DATABASE_URL"], **app.config.get("DATABASE_ENGINE_OPTIONS", {}))
    import services.feature_models  # noqa: F401  (feature tables join Base.metadata first)
    Base.metadata.create_all(engine)
    app.extensions["database"] = DatabaseState(engine, sessionmaker(engine, expire_on_commit=False))
    app.teardown_appcontext(_close_request_session)


def state(app: Flask | None = None) -> DatabaseState:
    """The database state of ``app`` (default: the current app)."""
    return (app or current_app).extensions["database"]


def get_engine(app: Flask | None = None) -> Engine:
    """The engine bound to ``app`` (default: the current app)."""
    return state(app).engine


def get_session() -> Session:
    """The request's session: one per app context, closed at teardown."""
    if "db_session" not in g:
        g.db_session = state().session_factory()
    return g.db_session


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """A session for work outside a request (CLI, scheduler): commit on success, else roll back."""
    session = state(app).session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(app: Flask | None = None) -> None:
    """Run a trivial query; raises if the database does not answer."""
    with get_engine(app).connect() as conn:
        conn.execute(text("SELECT 1"))
