"""Revision 0006 (monitor storage) on a database that the previous revision left with rows.

Monitors, their results, rollups and state changes keep every value; the old rollups have no
histogram (so no p50/p95 for their hours), and new checks fill one beside them.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

import database
from services.checks.kinds import Outcome
from services.checks.runner import record
from services.ops import migrations
from tests import previous_release
from tests.migration_steps import at_previous_with_rows
from tests.test_migrations import engines, fresh_url, start, version  # noqa: F401 (fixtures)

MINE = "0006_monitor_storage"
TABLES = ["monitors", "monitor_results", "monitor_rollups", "monitor_events"]
AT = datetime.now(timezone.utc).replace(microsecond=0, second=0, minute=0) - timedelta(hours=2)


def _old_rows(engine) -> None:
    """Rows written with only the columns the previous revision has."""
    stamp = AT.replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO monitors (id, name, kind, config, interval_seconds, timeout_seconds, "
            "failure_threshold, recovery_threshold, labels, paused, state, state_since, "
            "consecutive_failures, consecutive_successes, created_at, updated_at) VALUES "
            "(7, 'old api', 'tcp', '{\"host\": \"127.0.0.1\", \"port\": 9}', 60, 5, 3, 2, '{}', "
            ":f, 'up', :at, 0, 4, :at, :at)"), {"f": False, "at": stamp})
        for i in range(4):
            conn.execute(text("INSERT INTO monitor_results (monitor_id, at, ok, latency_ms, error) "
                              "VALUES (7, :at, :ok, :ms, NULL)"),
                         {"at": stamp + timedelta(seconds=20 * i), "ok": True, "ms": 10.0 + i})
        for res in (60, 3600, 86400):
            conn.execute(text(
                "INSERT INTO monitor_rollups (monitor_id, resolution, bucket_start, checks, up, "
                "latency_count, latency_sum_ms, latency_max_ms) VALUES (7, :res, :start, 4, 4, 4, 46.0, 13.0)"),
                {"res": res, "start": stamp.replace(hour=0) if res == 86400 else stamp})
        conn.execute(text("INSERT INTO monitor_events (monitor_id, at, from_state, to_state, error, alerted) "
                          "VALUES (7, :at, 'pending', 'up', NULL, :f)"), {"at": stamp, "f": False})


def test_monitor_rows_survive_and_new_checks_fill_histograms(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    at_previous_with_rows(engine, MINE)
    _old_rows(engine)
    before = previous_release.snapshot(engine, TABLES)
    assert all(before[name][1] for name in TABLES)

    app = start(fresh_url)
    try:
        assert version(engine) == [migrations.head()]
        after = previous_release.snapshot(engine, TABLES, like=before)
        assert after == before
        with engine.connect() as conn:
            assert conn.execute(text("SELECT latency_hist FROM monitor_rollups")).scalars().all() == [None] * 3
        record(app, 7, Outcome(True, 42.0, None), AT + timedelta(minutes=30))
        with database.session_scope(app) as s:
            from services.checks import storage
            figures = storage.uptimes(s, [7], AT + timedelta(hours=1))[7]
        assert figures["p50_ms_24h"] is not None and 30 < figures["p50_ms_24h"] <= 42.0
    finally:
        database.get_engine(app).dispose()
