"""Writing check results: every check that finished in a runner cycle in one transaction.

Most results change nothing but a monitor's columns (it stays up, or is up and failing below
its threshold): those are "quiet" and share one transaction per cycle: the monitor row set with
a Core statement, the minute/hour/day buckets bumped, a raw row for a failure; the settings of
the monitors due next are read in that same transaction. A result that changes the state, or
lands on a down monitor (its alert may open, or be seen again), goes through ``record``: the
state machine on the ORM model in a transaction of its own, committed and announced (``monitor``
and ``alert`` events) exactly as every result once was. Those run after the quiet ones, in the
order the checks finished; a quiet result never changes a state, so no parent or alert sees
anything in a different order.

When the shared transaction fails, nothing of it is kept. If the database refused something
in it (a monitor deleted meanwhile), every result is written on its own instead, so one result
loses no other. If the database could not be used at all (down, or locked past its timeout),
the results are handed back to be written in the next cycle, in the same order and with their
own times, rather than each waiting out the same timeout. Failures are logged as the runner's
writes always were (an outage once a minute) and the health check shows the database.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from flask import Flask
from sqlalchemy import bindparam, select, update

import database
from services.checks import state, storage
from services.checks.kinds import Outcome
from services.checks.models import Monitor
from services.infra import breaker as circuit_breaker

log = logging.getLogger(__name__)
SPEC_FIELDS = ("id", "kind", "config", "interval_seconds", "timeout_seconds", "paused",
               "last_push_at", "last_push_status", "last_push_message")
# What ``state.advance`` and ``state.is_quiet`` read, beside the spec.
STATE_FIELDS = ("state", "consecutive_failures", "consecutive_successes", "failure_threshold",
                "recovery_threshold")

_COLUMNS = Monitor.__table__.c
# Built once, so each cycle reuses the compiled statements.
_READ = select(*(_COLUMNS[k] for k in SPEC_FIELDS + STATE_FIELDS)).where(
    _COLUMNS.id.in_(bindparam("ids", expanding=True)))
_QUIET_COLUMNS = ("last_checked_at", "last_ok", "last_latency_ms", "last_detail",
                  "consecutive_successes", "consecutive_failures")


def _set(columns: tuple[str, ...]):
    return update(Monitor.__table__).where(_COLUMNS.id == bindparam("monitor_id")).values(
        {k: bindparam(f"v_{k}", type_=_COLUMNS[k].type) for k in columns})


_SET_OK = _set(_QUIET_COLUMNS)
_SET_FAILED = _set(_QUIET_COLUMNS + ("last_error", "last_error_at"))


@dataclass
class Finished:
    """One check that ran: which monitor, what it saw, and when it started (the result's time)."""

    monitor_id: int
    outcome: Outcome
    at: datetime


def spec_of(row: Any) -> dict[str, Any]:
    """What a check needs of a monitor (a model or a row), as plain values for worker threads."""
    return {k: getattr(row, k) for k in SPEC_FIELDS}


def read_specs(app: Flask, monitor_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The specs of the monitors among ``monitor_ids`` that exist and are not paused."""
    ids = list(monitor_ids)
    if not ids:
        return {}
    with database.get_engine(app).connect() as conn:
        rows = conn.execute(_READ, {"ids": ids}).all()
    return {row.id: spec_of(row) for row in rows if not row.paused}


def record(app: Flask, monitor_id: int, outcome: Outcome, now: datetime) -> state.Step | None:
    """Store ``outcome`` as the monitor's result at ``now``, advance its state, announce changes
    (a transaction of its own). None when the monitor is gone or paused."""
    from services.alerts.dispatch import commit_and_announce
    from services.checks.service import publish_change

    with database.session_scope(app) as session:
        monitor = session.get(Monitor, monitor_id)
        if monitor is None or monitor.paused:
            return None
        step = state.apply(session, monitor, outcome, now)
        storage.record_result(session, monitor.id, now, outcome.ok, outcome.latency_ms, outcome.error,
                              keep_raw=not outcome.ok or step.changed)
        commit_and_announce(app, session, step.changes)
        if step.changed:
            publish_change(monitor, step)
        return step


def write(app: Flask, results: list[Finished], read_ids: Iterable[int] = ()
          ) -> tuple[dict[int, state.Step | None], dict[int, dict[str, Any]], list[Finished]]:
    """Store ``results`` (in the order the checks finished) and read the specs of ``read_ids``.

    Returns each result's step by monitor id (None: gone, paused, or its write was refused and
    logged), the specs of the monitors among ``read_ids`` that can be checked now, and the
    results to write again later: those the database could not take at all (an outage, a lock
    held past its timeout), so they are neither lost nor waited on one by one.
    """
    read_ids = list(read_ids)
    steps: dict[int, state.Step | None] = {}
    try:
        loud, specs = _write_quiet(app, results, read_ids, steps)
    except Exception as exc:  # rolled back
        circuit_breaker.log_failure(log, f"storing {len(results)} monitor result(s) at once", exc)
        if circuit_breaker.is_outage(exc):
            return {}, {}, list(results)
        steps.clear()  # a result the database refused: each gets a transaction of its own
        loud, specs = results, None
    for i, done in enumerate(loud):
        try:
            steps[done.monitor_id] = record(app, done.monitor_id, done.outcome, done.at)
        except Exception as exc:  # one refused write must not lose the other results
            circuit_breaker.log_failure(log, f"storing the result of monitor {done.monitor_id}", exc)
            if circuit_breaker.is_outage(exc):
                return steps, specs or {}, list(loud[i:])
            steps[done.monitor_id] = None
    if specs is None:
        try:
            specs = read_specs(app, read_ids)
        except Exception as exc:  # no check starts without its settings; the next cycle tries again
            circuit_breaker.log_failure(log, "reading the monitors to check", exc)
            specs = {}
    return steps, specs, []


def _write_quiet(app: Flask, results: list[Finished], read_ids: list[int],
                 steps: dict[int, state.Step | None]) -> tuple[list[Finished], dict[int, dict]]:
    """One transaction: the quiet results and the specs of ``read_ids``; returns the loud results."""
    loud: list[Finished] = []
    ids = {done.monitor_id for done in results} | set(read_ids)
    if not ids:
        return loud, {}
    with database.session_scope(app) as session:
        conn = session.connection()
        rows = {row.id: row for row in conn.execute(_READ, {"ids": list(ids)})}
        for done in results:
            row, outcome = rows.get(done.monitor_id), done.outcome
            if row is None or row.paused:
                steps[done.monitor_id] = None
                continue
            values, target = state.advance(row, outcome, done.at)
            if not state.is_quiet(row, target):
                loud.append(done)
                continue
            conn.execute(_SET_OK if outcome.ok else _SET_FAILED,
                         {"monitor_id": row.id, **{f"v_{k}": v for k, v in values.items()}})
            storage.record_result(session, row.id, done.at, outcome.ok, outcome.latency_ms,
                                  outcome.error, keep_raw=not outcome.ok)
            steps[done.monitor_id] = state.Step(from_state=row.state)
        specs = {mid: spec_of(rows[mid]) for mid in read_ids if mid in rows and not rows[mid].paused}
    return loud, specs
