"""Baseline: the schema of the last release built by create_all, as it is on SQLite and PostgreSQL.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-01

A database from before migrations (tables made by ``create_all``, no ``alembic_version``) runs this
revision too: every table, column and index it already has is left as it is, with its rows, and
only what that release lacked is created (a table or index added since, a nullable column). A
table missing a required column cannot be adopted safely, and the upgrade stops naming it.
Frozen: later changes go in new revisions.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence, Union

import sqlalchemy as sa
from alembic import context, op

import database

revision: str = '0001_baseline'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

log = logging.getLogger("services.ops.migrations")
# Tables the database had before this revision ran (read once per upgrade; empty offline).
_before: set[str] = set()
_inspectors: list[sa.Inspector] = []


def _index(name: str, columns: list[str], **kw: Any) -> tuple[str, list[str], dict[str, Any]]:
    return name, columns, kw


def _inspector() -> sa.Inspector:
    # One inspector per upgrade: it caches what it reads, one catalogue query per kind on PostgreSQL.
    if not _inspectors or _inspectors[0].bind is not op.get_bind():
        _inspectors[:] = [sa.inspect(op.get_bind())]
    return _inspectors[0]


def _table(name: str, *items: Any, indexes: Sequence[tuple[str, list[str], dict[str, Any]]] = ()) -> None:
    """Create ``name`` with its indexes; on a database from before migrations, only what it lacks."""
    existed = name in _before
    have: set[str] = set()
    if existed:
        inspector = _inspector()
        _add_missing_columns(inspector, name, [i for i in items if isinstance(i, sa.Column)])
        have = {i["name"] for i in inspector.get_indexes(name)}
    else:
        if _before:
            log.info("schema: adopting: creating table %s, which that release lacked", name)
        op.create_table(name, *items)
    for index_name, columns, kw in indexes:
        if index_name not in have:
            if existed:
                log.info("schema: adopting: creating index %s missing from %s", index_name, name)
            op.create_index(index_name, name, columns, **kw)


def _add_missing_columns(inspector: sa.Inspector, name: str, columns: list[sa.Column]) -> None:
    present = {c["name"] for c in inspector.get_columns(name)}
    for column in columns:
        if column.name in present:
            continue
        if not column.nullable:
            raise RuntimeError(f"cannot adopt the database: table {name} lacks the required column "
                               f"{column.name}; it was not made by a release of this panel")
        log.info("schema: adopting: adding column %s.%s", name, column.name)
        op.add_column(name, column)


def upgrade() -> None:
    """Create every table of the baseline (on an older database: only what it lacks)."""
    _before.clear()
    _inspectors.clear()
    if not context.is_offline_mode():
        _before.update(set(_inspector().get_table_names()) - {"alembic_version"})
    _table(
        'alert_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('metric', sa.String(length=64), nullable=False),
        sa.Column('operator', sa.String(length=2), nullable=False),
        sa.Column('threshold', sa.Float(), nullable=False),
        sa.Column('for_seconds', sa.Integer(), nullable=False),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('channels', sa.JSON(), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('snoozed_until', database.UTCDateTime(), nullable=True),
        sa.Column('builtin', sa.Boolean(), nullable=False),
        sa.Column('created_at', database.UTCDateTime(), nullable=False),
        sa.Column('updated_at', database.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name')
    )

    _table(
        'audit_log',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('created_at', database.UTCDateTime(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=True),
        sa.Column('ip', sa.String(length=45), nullable=True),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target', sa.String(length=255), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        indexes=[
            _index('ix_audit_action_created', ['action', 'created_at'], unique=False),
            _index('ix_audit_actor_created', ['actor', 'created_at'], unique=False),
            _index('ix_audit_created', ['created_at', 'id'], unique=False),
        ],
    )

    _table(
        'currency_rollups',
        sa.Column('bucket_start', database.UTCDateTime(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('completed', sa.BigInteger(), nullable=False),
        sa.Column('pending', sa.BigInteger(), nullable=False),
        sa.Column('failed', sa.BigInteger(), nullable=False),
        sa.Column('refunded', sa.BigInteger(), nullable=False),
        sa.Column('revenue_cents', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('bucket_start', 'currency'),
        indexes=[
            _index('ix_currency_rollups_currency_bucket', ['currency', 'bucket_start', 'revenue_cents', 'completed', 'pending', 'failed', 'refunded'], unique=False),
        ],
    )

    _table(
        'customer_first_seen',
        sa.Column('customer_id', sa.String(length=64), nullable=False),
        sa.Column('first_seen_at', database.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('customer_id'),
        indexes=[
            _index('ix_customer_first_seen_at', ['first_seen_at'], unique=False),
        ],
    )

    _table(
        'log_entries',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('created_at', database.UTCDateTime(), nullable=False),
        sa.Column('level', sa.String(length=10), nullable=False),
        sa.Column('level_no', sa.Integer(), nullable=False),
        sa.Column('service', sa.String(length=64), nullable=False),
        sa.Column('logger', sa.String(length=128), nullable=True),
        sa.Column('message', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        indexes=[
            _index('ix_logs_created_id', ['created_at', 'id'], unique=False),
            _index('ix_logs_level_created', ['level_no', 'created_at', 'id'], unique=False),
            _index('ix_logs_service_created', ['service', 'created_at', 'id'], unique=False),
            _index('ix_logs_service_level_created', ['service', 'level_no', 'created_at', 'id'], unique=False),
        ],
    )

    _table(
        'request_stats',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('minute', database.UTCDateTime(), nullable=False),
        sa.Column('endpoint', sa.String(length=200), nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('label', sa.String(length=16), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('errors', sa.Integer(), nullable=False),
        sa.Column('total_ms', sa.Float(), nullable=False),
        sa.Column('max_ms', sa.Float(), nullable=False),
        sa.Column('db_queries', sa.Integer(), nullable=False),
        sa.Column('db_ms', sa.Float(), nullable=False),
        sa.Column('buckets', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        indexes=[
            _index('ix_request_stats_endpoint_minute', ['endpoint', 'method', 'minute'], unique=False),
            _index('ix_request_stats_minute', ['minute'], unique=False),
        ],
    )

    _table(
        'revenue_rollups',
        sa.Column('bucket_start', database.UTCDateTime(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('completed', sa.BigInteger(), nullable=False),
        sa.Column('pending', sa.BigInteger(), nullable=False),
        sa.Column('failed', sa.BigInteger(), nullable=False),
        sa.Column('refunded', sa.BigInteger(), nullable=False),
        sa.Column('revenue_cents', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('bucket_start', 'currency', 'channel'),
        indexes=[
            _index('ix_revenue_rollups_currency_bucket', ['currency', 'bucket_start', 'revenue_cents', 'completed', 'pending', 'failed', 'refunded'], unique=False),
        ],
    )

    _table(
        'system_metrics',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('recorded_at', database.UTCDateTime(), nullable=False),
        sa.Column('host', sa.String(length=128), nullable=False),
        sa.Column('cpu_percent', sa.Float(), nullable=False),
        sa.Column('memory_percent', sa.Float(), nullable=False),
        sa.Column('disk_percent', sa.Float(), nullable=False),
        sa.Column('net_sent_bps', sa.Float(), nullable=False),
        sa.Column('net_recv_bps', sa.Float(), nullable=False),
        sa.Column('load_1', sa.Float(), nullable=True),
        sa.Column('load_5', sa.Float(), nullable=True),
        sa.Column('load_15', sa.Float(), nullable=True),
        sa.Column('process_rss_bytes', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        indexes=[
            _index('ix_system_metrics_recorded', ['recorded_at'], unique=False),
        ],
    )

    _table(
        'transactions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('amount_cents', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('customer_id', sa.String(length=64), nullable=True),
        sa.Column('channel', sa.String(length=32), nullable=True),
        sa.Column('created_at', database.UTCDateTime(), nullable=False),
        sa.Column('updated_at', database.UTCDateTime(), nullable=False),
        sa.Column('received_at', database.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        indexes=[
            _index('ix_transactions_created', ['created_at'], unique=False),
            _index('ix_transactions_customer_created', ['customer_id', 'created_at'], unique=False),
            _index('ix_transactions_status_created', ['status', 'created_at'], unique=False),
            _index('ix_transactions_updated', ['updated_at'], unique=False),
        ],
    )

    _table(
        'user_activity',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('detail', sa.String(length=500), nullable=True),
        sa.Column('created_at', database.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        indexes=[
            _index('ix_activity_action_created', ['action', 'created_at'], unique=False),
            _index('ix_activity_created', ['created_at'], unique=False),
            _index('ix_activity_user_created', ['user_id', 'created_at'], unique=False),
        ],
    )

    _table(
        'users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('session_token', sa.String(length=64), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('created_at', database.UTCDateTime(), nullable=False),
        sa.Column('password_changed_at', database.UTCDateTime(), nullable=False),
        sa.Column('last_login_at', database.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username'),
        sa.UniqueConstraint('session_token')
    )

    _table(
        'alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=True),
        sa.Column('rule_name', sa.String(length=120), nullable=False),
        sa.Column('metric', sa.String(length=64), nullable=False),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('worst_value', sa.Float(), nullable=True),
        sa.Column('threshold', sa.Float(), nullable=False),
        sa.Column('started_at', database.UTCDateTime(), nullable=False),
        sa.Column('fired_at', database.UTCDateTime(), nullable=True),
        sa.Column('last_seen_at', database.UTCDateTime(), nullable=False),
        sa.Column('acknowledged_at', database.UTCDateTime(), nullable=True),
        sa.Column('acknowledged_by', sa.String(length=64), nullable=True),
        sa.Column('ack_note', sa.Text(), nullable=True),
        sa.Column('resolved_at', database.UTCDateTime(), nullable=True),
        sa.Column('resolved_by', sa.String(length=64), nullable=True),
        sa.Column('resolve_note', sa.Text(), nullable=True),
        sa.Column('auto_resolved', sa.Boolean(), nullable=False),
        sa.Column('snoozed_until', database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        indexes=[
            _index('ix_alerts_rule_status', ['rule_id', 'status'], unique=False),
            _index('ix_alerts_started', ['started_at'], unique=False),
            _index('ix_alerts_status_started', ['status', 'started_at'], unique=False),
            _index('uq_alerts_open_rule', ['rule_id'], unique=True, sqlite_where=sa.text("status IN ('pending', 'firing', 'acknowledged')"), postgresql_where=sa.text("status IN ('pending', 'firing', 'acknowledged')")),
        ],
    )

    _table(
        'login_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('started_at', database.UTCDateTime(), nullable=False),
        sa.Column('last_seen_at', database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        indexes=[
            _index('ix_login_sessions_user_id', ['user_id'], unique=False),
        ],
    )

    _table(
        'alert_notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('event', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', database.UTCDateTime(), nullable=False),
        sa.Column('sent_at', database.UTCDateTime(), nullable=True),
        sa.Column('next_attempt_at', database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        indexes=[
            _index('ix_alert_notifications_alert', ['alert_id'], unique=False),
            _index('ix_alert_notifications_status', ['status'], unique=False),
        ],
    )


def downgrade() -> None:
    """Drop every table of the baseline, children first."""
    for name in ('alert_notifications', 'login_sessions', 'alerts', 'users', 'user_activity',
                 'transactions', 'system_metrics', 'revenue_rollups', 'request_stats', 'log_entries',
                 'customer_first_seen', 'currency_rollups', 'audit_log', 'alert_rules'):
        op.drop_table(name)
