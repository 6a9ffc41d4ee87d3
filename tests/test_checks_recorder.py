"""A cycle's results in one transaction: the same rows as one transaction per result, and a
result the database refuses loses no other."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError, OperationalError

import database
from services.checks import check_once, recorder, runner, service, storage
from services.checks.kinds import Outcome
from services.checks.models import Monitor, MonitorEvent, MonitorResult, MonitorRollup
from tests.checks_target import app, target  # noqa: F401 (fixtures)
from tests.helpers import wait_for

T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
# Columns that differ between two monitors whatever happened to them.
OWN = {"id", "name", "alert_id", "push_token", "created_at", "updated_at", "state_since"}


def _create(app, name: str, **body) -> int:
    body = body or {"kind": "tcp", "host": "127.0.0.1", "port": 9}
    with database.session_scope(app) as s:
        return service.create(s, {"name": name, "failure_threshold": 3, "recovery_threshold": 2, **body},
                              min_interval=1).id


def _row(app, mid) -> dict:
    with database.session_scope(app) as s:
        m = s.get(Monitor, mid)
        return {c.key: getattr(m, c.key) for c in Monitor.__table__.columns if c.key not in OWN}


def _stored(app, mid) -> tuple[list, list, list]:
    """Rollups, raw results and state changes of one monitor, as plain tuples."""
    with database.session_scope(app) as s:
        r = MonitorRollup
        rollups = s.execute(select(r.resolution, r.bucket_start, r.checks, r.up, r.latency_count,
                                   r.latency_sum_ms, r.latency_max_ms, r.latency_hist)
                            .where(MonitorRollup.monitor_id == mid)
                            .order_by(MonitorRollup.resolution, MonitorRollup.bucket_start)).all()
        raw = s.execute(select(MonitorResult.at, MonitorResult.ok, MonitorResult.latency_ms, MonitorResult.error)
                        .where(MonitorResult.monitor_id == mid).order_by(MonitorResult.at)).all()
        moves = s.execute(select(MonitorEvent.at, MonitorEvent.from_state, MonitorEvent.to_state,
                                 MonitorEvent.error, MonitorEvent.alerted)
                          .where(MonitorEvent.monitor_id == mid).order_by(MonitorEvent.at)).all()
    return [tuple(r) for r in rollups], [tuple(r) for r in raw], [tuple(r) for r in moves]


def test_batched_results_leave_the_rows_one_transaction_per_result_left(app):
    """Up, failing below the threshold, down, recovering: the shared write and the state machine
    on the model (one transaction per result) leave the same monitor, buckets, raw rows and moves."""
    one, batched = _create(app, "one"), _create(app, "batched")
    outcomes = [Outcome(True, 12.5, None, {"status_code": 200}), Outcome(True, 30.0),
                Outcome(False, 45.0, "HTTP 503", {"status_code": 503}), Outcome(True, 11.0),
                Outcome(False, None, "connection refused"), Outcome(False, None, "connection refused"),
                Outcome(False, 80.0, "slow"), Outcome(False, None, "timed out"), Outcome(True, 9.0),
                Outcome(True, 10.0, None, {"status_code": 200}), Outcome(True, 13.0)]
    quiet = 0
    for i, outcome in enumerate(outcomes):
        at = T0 + timedelta(seconds=20 * i)
        recorder.record(app, one, outcome, at)
        before = _row(app, batched)["state"]
        steps, _specs, _later = recorder.write(app, [recorder.Finished(batched, outcome, at)])
        assert _row(app, batched) == _row(app, one), f"after result {i}"
        quiet += not steps[batched].changed and before != "down"
    assert _stored(app, batched) == _stored(app, one)
    assert quiet == 6  # the successes and failures that moved no state, with the monitor not down
    assert [m[1:3] for m in _stored(app, batched)[2]] == [("pending", "up"), ("up", "down"), ("down", "up")]


def test_a_cycle_writes_every_finished_check_and_reads_the_due_ones_in_one_transaction(app, target):
    ids = [_create(app, f"m{i}", kind="http", url=f"{target.url}/{i}", interval_seconds=10) for i in range(5)]
    for mid in ids:
        check_once(app, mid)  # pending -> up: a state change, written on its own
    run = runner(app)
    run.pool = ThreadPoolExecutor(4)
    try:
        assert run.cycle(now=0.0) == 5
        assert wait_for(lambda: len(run.finished) == 5)
        late = _create(app, "late", kind="http", url=f"{target.url}/late", interval_seconds=10)
        run.mark_dirty()
        commits = []

        def count(_conn):
            commits.append(1)

        event.listen(database.get_engine(app), "commit", count)
        try:
            assert run.cycle(now=1.0) == 1  # the new monitor is due; the five are not yet
        finally:
            event.remove(database.get_engine(app), "commit", count)
        assert len(commits) == 1  # five results and the new monitor's settings
        assert not set(ids) & run.in_flight and late in run.in_flight
        assert wait_for(lambda: len(run.finished) == 1)
    finally:
        run.stop()  # writes what finished since the last cycle
    with database.session_scope(app) as s:
        checks = dict(s.execute(select(MonitorRollup.monitor_id, MonitorRollup.checks)
                                .where(MonitorRollup.resolution == 3600)).all())
    assert checks == {**{mid: 2 for mid in ids}, late: 1}
    assert all(_row(app, mid)["consecutive_successes"] == 2 for mid in ids)


def test_a_result_the_database_refuses_loses_no_other(app, monkeypatch, caplog):
    good, bad, other = _create(app, "good"), _create(app, "bad"), _create(app, "other")
    for mid in (good, bad, other):
        recorder.write(app, [recorder.Finished(mid, Outcome(True, 10.0), T0)])  # up
    real = storage.record_result

    def refuse_bad(session, monitor_id, *args, **kwargs):
        if monitor_id == bad:
            raise IntegrityError("UPDATE monitor_rollups", {}, Exception("constraint failed"))
        return real(session, monitor_id, *args, **kwargs)

    monkeypatch.setattr(storage, "record_result", refuse_bad)
    at = T0 + timedelta(seconds=20)
    results = [recorder.Finished(good, Outcome(True, 20.0), at),
               recorder.Finished(bad, Outcome(True, 20.0), at),
               recorder.Finished(other, Outcome(False, None, "HTTP 500"), at)]
    with caplog.at_level(logging.ERROR):
        steps, _specs, later = recorder.write(app, results)
    assert steps[bad] is None and steps[good] is not None and steps[other] is not None and later == []
    assert f"storing the result of monitor {bad} failed" in caplog.text
    assert _row(app, good)["last_checked_at"] == at and _row(app, bad)["last_checked_at"] == T0
    assert _row(app, other)["last_error"] == "HTTP 500"
    # Rolled back, then written once: each resolution counts each result once, the hour
    # histograms each measured response time once.
    for mid, checks in ((good, 2), (bad, 1), (other, 2)):
        buckets = _stored(app, mid)[0]
        for resolution in (60, 3600, 86400):
            assert sum(b[2] for b in buckets if b[0] == resolution) == checks, (mid, resolution)
        counted = sum(int(part.split(":")[1]) for b in buckets if b[0] == 3600 for part in b[7].split(","))
        assert counted == checks - (mid == other)  # the refused connection measured no time


def test_results_the_database_cannot_take_are_written_by_the_next_cycle(app, target, monkeypatch):
    ids = [_create(app, f"m{i}", kind="http", url=f"{target.url}/{i}", interval_seconds=10) for i in range(2)]
    for mid in ids:
        check_once(app, mid)  # up
    run = runner(app)
    run.pool = ThreadPoolExecutor(2)
    try:
        assert run.cycle(now=0.0) == 2
        assert wait_for(lambda: len(run.finished) == 2)
        checked = {d.monitor_id: d.at for d in run.finished}

        def locked(*_args, **_kwargs):
            raise OperationalError("UPDATE monitor_rollups", {}, Exception("database is locked"))

        monkeypatch.setattr(storage, "record_result", locked)
        assert run.cycle(now=1.0) == 0
        # Kept, in order, and not checked again meanwhile; nothing half-written.
        assert [d.monitor_id for d in run.finished] == list(checked) and set(ids) <= run.in_flight
        assert all(_row(app, mid)["consecutive_successes"] == 1 for mid in ids)
        monkeypatch.undo()
        run.cycle(now=2.0)
        assert run.finished == [] and not set(ids) & run.in_flight
    finally:
        run.stop()
    for mid in ids:
        row = _row(app, mid)
        assert row["consecutive_successes"] == 2 and row["last_checked_at"] == checked[mid]
        assert sum(b[2] for b in _stored(app, mid)[0] if b[0] == 3600) == 2
