"""Retention: only rows older than each table's days go, in batches; SQLite gives the space back."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

import database
from services.accounts import AuditLog
from services.ingest import UserActivity
from services.logs import LogEntry
from services.monitor import RequestStat, SystemMetric
from services.ops import retention

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
DAYS = {"RETENTION_DAYS_METRICS": 30, "RETENTION_DAYS_REQUEST_STATS": 7, "RETENTION_DAYS_LOGS": 14,
        "RETENTION_DAYS_ACTIVITY": 90, "RETENTION_DAYS_AUDIT": 0}


def _seed(app, ages_days):
    with database.session_scope(app) as s:
        for age in ages_days:
            t = NOW - timedelta(days=age)
            s.add(SystemMetric(recorded_at=t, cpu_percent=1, memory_percent=1, disk_percent=1))
            s.add(RequestStat(minute=t, endpoint="/x", method="GET", count=1, buckets={}))
            s.add(LogEntry(created_at=t, level="INFO", level_no=20, service="s", message=f"age {age}"))
            s.add(UserActivity(created_at=t, user_id="u", action="view"))
            s.add(AuditLog(created_at=t, actor="a", action="login"))


def _ages(app, model, column):
    with database.session_scope(app) as s:
        return sorted(round((NOW - t).total_seconds() / 86400, 2) for t in s.scalars(select(column)))


def test_prune_deletes_only_what_is_old(app):
    ages = [0, 1, 6.9, 7.1, 13.9, 14.1, 29, 31, 89, 91, 400]
    _seed(app, ages)
    result = retention.prune(database.get_engine(app), {**DAYS, "RETENTION_BATCH_SIZE": 2}, now=NOW)
    assert result.deleted == {"system_metrics": 4, "request_stats": 8, "log_entries": 6,
                              "user_activity": 2}
    assert _ages(app, SystemMetric, SystemMetric.recorded_at) == [a for a in ages if a < 30]
    assert _ages(app, RequestStat, RequestStat.minute) == [a for a in ages if a < 7]
    assert _ages(app, LogEntry, LogEntry.created_at) == [a for a in ages if a < 14]
    assert _ages(app, UserActivity, UserActivity.created_at) == [a for a in ages if a < 90]
    assert _ages(app, AuditLog, AuditLog.created_at)[-1] == 400  # 0 days: kept forever
    again = retention.prune(database.get_engine(app), DAYS, now=NOW)
    assert again.total == 0


def test_prune_command(make_app):
    app = make_app(RETENTION_DAYS_LOGS=1)
    with database.session_scope(app) as s:
        s.add(LogEntry(created_at=database.utcnow() - timedelta(days=3), level="INFO", level_no=20,
                       service="s", message="old"))
        s.add(LogEntry(created_at=database.utcnow(), level="INFO", level_no=20, service="s", message="new"))
    result = app.test_cli_runner().invoke(args=["prune"])
    assert result.exit_code == 0, result.output
    assert "log_entries: deleted 1" in result.output
    with database.session_scope(app) as s:
        assert s.scalars(select(LogEntry.message)).all() == ["new"]
        assert s.scalar(select(func.count()).where(AuditLog.action == "retention.prune")) == 1


@pytest.mark.sqlite_only
def test_sqlite_space_is_given_back(app):
    engine = database.get_engine(app)
    assert retention.auto_vacuum_mode(engine) == 2  # a new database is switched at start
    with database.session_scope(app) as s:
        s.add_all(LogEntry(created_at=NOW - timedelta(days=100), level="INFO", level_no=20, service="s",
                           message="x" * 500) for _ in range(4000))

    def pages():
        with engine.connect() as conn:
            return conn.execute(text("PRAGMA page_count")).scalar()

    before = pages()
    result = retention.prune(engine, {"RETENTION_DAYS_LOGS": 14}, now=NOW)
    assert result.deleted["log_entries"] == 4000
    assert result.vacuumed_pages and result.vacuumed_pages > 100
    assert pages() < before - 100


def _wait_idle(pruner):
    deadline = time.monotonic() + 10
    while pruner._running.locked() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_daily_pruner_runs_once_a_day_and_after_the_first_delay(make_app):
    app = make_app(RETENTION_DAYS_LOGS=1)
    old = database.utcnow() - timedelta(days=3)
    with database.session_scope(app) as s:
        s.add(LogEntry(created_at=old, level="INFO", level_no=20, service="s", message="old"))
    waiting = retention.DailyPruner(app, first_delay=300)
    assert waiting.maybe_run() is False  # just started: not yet
    pruner = retention.DailyPruner(app, first_delay=0)
    assert pruner.maybe_run() is True
    _wait_idle(pruner)
    with database.session_scope(app) as s:
        assert s.scalar(select(func.count()).select_from(LogEntry)) == 0
        s.add(LogEntry(created_at=old, level="INFO", level_no=20, service="s", message="old again"))
    assert pruner.maybe_run() is False  # a day has not passed in this process
    assert pruner.due(time.monotonic() + 86_401)
    # Another process (a fresh pruner) sees today's prune in the audit trail and leaves it.
    other = retention.DailyPruner(app, first_delay=0)
    assert other.maybe_run() is True
    _wait_idle(other)
    with database.session_scope(app) as s:
        assert s.scalar(select(func.count()).select_from(LogEntry)) == 1
        actors = s.scalars(select(AuditLog.actor).where(AuditLog.action == "retention.prune")).all()
    assert actors == ["scheduler"]


def test_daily_prune_is_a_periodic_job_and_only_acts_with_the_scheduler(make_app):
    app = make_app(SCHEDULER_ENABLED=True)
    assert retention.maybe_prune in [job.run for job in app.extensions["live"].jobs]
    off = make_app()
    off.extensions["retention"].first_delay = 0
    retention.maybe_prune(off, None, {})  # scheduler off in this app: nothing starts
    assert off.extensions["retention"].last_run is None
    app.extensions["retention"].first_delay = 0
    retention.maybe_prune(app, None, {})
    assert app.extensions["retention"].last_run is not None
    _wait_idle(app.extensions["retention"])
