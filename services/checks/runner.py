"""The runner: every monitor checked on its own interval, in a small pool of worker threads.

One loop per process wakes every ``MONITOR_LOOP_SECONDS`` and hands the monitors that are due
to the pool; it never waits for a check, so a target that hangs holds one worker for at most
its timeout and delays no other check, no heartbeat and no live tick. A monitor is never
checked twice at once. Only the process that runs the live scheduler checks: the runner is
started by a leader-only periodic job (``services.live.jobs``) and skips its cycles
whenever this process stops being the leader. Nothing starts at import time.
"""
from __future__ import annotations

import logging
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

import database
from database import utcnow
from services.infra import breaker as circuit_breaker
from services.infra import bus as events
from services.infra import topics
from services.checks import state, storage
from services.checks.kinds import CheckContext, Outcome, run_check
from services.checks.models import Monitor

log = logging.getLogger(__name__)
EXTENSION = "checks_runner"
SPEC_FIELDS = ("id", "kind", "config", "interval_seconds", "timeout_seconds", "paused",
               "last_push_at", "last_push_status", "last_push_message")


def settings_of(app: Flask) -> dict:
    """The settings checks read (plain values, safe to hand to worker threads)."""
    cfg = app.config
    return {"MONITOR_ALLOW_PRIVATE": bool(cfg.get("MONITOR_ALLOW_PRIVATE")),
            "MONITOR_BODY_LIMIT": int(cfg.get("MONITOR_BODY_LIMIT") or 1_048_576),
            "REDIS_URL": cfg.get("REDIS_URL")}


def spec_of(monitor: Monitor) -> dict[str, Any]:
    """What a check needs of a monitor, detached from the session."""
    return {k: getattr(monitor, k) for k in SPEC_FIELDS}


def check_once(app: Flask, monitor_id: int, now: datetime | None = None) -> state.Step | None:
    """Check one monitor now, store the result and advance its state (announcing changes).

    The runner's workers call this; so do tests and bench scripts, with a fixed ``now``.
    None when the monitor is gone or paused.
    """
    # Only the columns a check needs, without loading the whole monitor (half a check's CPU).
    with database.get_engine(app).connect() as conn:
        row = conn.execute(select(*(getattr(Monitor, k) for k in SPEC_FIELDS))
                           .where(Monitor.id == monitor_id)).first()
    if row is None or row.paused:
        return None
    spec = dict(row._mapping)
    now = now or utcnow()
    outcome = run_check(spec, CheckContext(settings_of(app), database.get_engine(app), now))
    return record(app, monitor_id, outcome, now)


def record(app: Flask, monitor_id: int, outcome: Outcome, now: datetime) -> state.Step | None:
    """Store ``outcome`` as the monitor's result at ``now``, advance its state, announce changes."""
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


class Runner:
    """The loop and the worker pool of one app (``app.extensions['checks_runner']``)."""

    def __init__(self, app: Flask):
        self.app = app
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.running = False
        self.task: Any = None
        self.pool: ThreadPoolExecutor | None = None
        self.next_due: dict[int, float] = {}
        self.in_flight: set[int] = set()
        self.specs: list[tuple[int, int, bool]] = []  # (id, interval, paused)
        self.loaded_at: float | None = None
        self.cycles = 0
        self.checks_started = 0
        # Started by the scheduler's job: stops when that scheduler stops (see _on_scheduler_stopped).
        self.bound_to_scheduler = False

    def start(self) -> bool:
        """Start the loop and the pool once; False when running already or disabled."""
        from extensions import socketio

        with self.lock:
            if self.running or not self.app.config.get("MONITORS_ENABLED", True):
                return False
            self.running = True
            self.stop_event.clear()
            self.pool = ThreadPoolExecutor(max_workers=int(self.app.config.get("MONITOR_WORKERS") or 8),
                                           thread_name_prefix="monitor-check")
            self.task = socketio.start_background_task(self._loop)
        log.info("monitor runner started (%s workers)", self.app.config.get("MONITOR_WORKERS") or 8)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop; checks under way finish (each is bounded by its timeout)."""
        with self.lock:
            task, self.task = self.task, None
            pool, self.pool = self.pool, None
            self.stop_event.set()
            self.running = False
        if task is not None and hasattr(task, "join"):
            task.join(timeout)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def mark_dirty(self, _payload: Any = None) -> None:
        """A monitor changed in this process: reload the list on the next cycle."""
        self.loaded_at = None

    def _scheduler_stopped(self) -> bool:
        """True when the runner was started by the scheduler and that loop no longer runs."""
        return self.bound_to_scheduler and not scheduler_running(self.app)

    def _is_follower(self) -> bool:
        live = self.app.extensions.get("live")
        leader = getattr(live, "leader", None)
        return leader is not None and not leader.held

    def _reload(self, now: float) -> None:
        reload_every = float(self.app.config.get("MONITOR_RELOAD_SECONDS") or 5.0)
        if self.loaded_at is not None and now - self.loaded_at < reload_every:
            return
        with database.session_scope(self.app) as session:
            self.specs = [tuple(r) for r in session.execute(
                select(Monitor.id, Monitor.interval_seconds, Monitor.paused))]
        self.loaded_at = now
        known = {s[0] for s in self.specs}
        for gone in set(self.next_due) - known:
            self.next_due.pop(gone, None)

    def cycle(self, now: float | None = None) -> int:
        """Hand every due monitor to the pool; returns how many were started."""
        if self._is_follower() or self.pool is None or self.stop_event.is_set():
            return 0
        now = time.monotonic() if now is None else now
        self._reload(now)
        started = 0
        for monitor_id, interval, paused in self.specs:
            if paused or monitor_id in self.in_flight or self.next_due.get(monitor_id, 0.0) > now:
                continue
            self.next_due[monitor_id] = now + interval
            with self.lock:
                self.in_flight.add(monitor_id)
            self.pool.submit(self._work, monitor_id)
            started += 1
        self.checks_started += started
        self.cycles += 1
        return started

    def _work(self, monitor_id: int) -> None:
        try:
            with self.app.app_context():
                check_once(self.app, monitor_id)
        except Exception as exc:  # one failing write must not stop this monitor for good
            circuit_breaker.log_failure(log, f"checking monitor {monitor_id}", exc)
        finally:
            with self.lock:
                self.in_flight.discard(monitor_id)

    def _loop(self) -> None:
        from extensions import socketio

        period = float(self.app.config.get("MONITOR_LOOP_SECONDS") or 1.0)
        while not self.stop_event.is_set():
            if self._scheduler_stopped():
                # The scheduler's stop announcement normally gets here first; this covers a
                # loop that ended some other way, so no cycle runs for an app that is gone.
                self.stop_event.set()
                break
            began = time.monotonic()
            try:
                self.cycle(began)
            except Exception as exc:  # logged; the next cycle tries again
                circuit_breaker.log_failure(log, "a monitor runner cycle", exc)
            while not self.stop_event.is_set() and time.monotonic() - began < period:
                socketio.sleep(min(0.2, period))
        log.info("monitor runner stopped")


def scheduler_running(app: Flask) -> bool:
    """True while the app's live scheduler loop runs (started and not stopped)."""
    live = app.extensions.get("live")
    return bool(live is not None and live.running and not live.stop_event.is_set())


def runner(app: Flask) -> Runner:
    """The app's runner (created by ``init_app``)."""
    return app.extensions[EXTENSION]


_runners: "weakref.WeakSet[Runner]" = weakref.WeakSet()


def _on_change(_payload: Any) -> None:
    for run in list(_runners):
        run.mark_dirty()


def _on_scheduler_stopped(app: Any) -> None:
    for run in list(_runners):
        if run.app is app and run.running:
            run.stop(timeout=2.0)


def install(app: Flask) -> Runner:
    """Create the app's runner and follow monitor changes; starts nothing."""
    run = Runner(app)
    app.extensions[EXTENSION] = run
    _runners.add(run)
    # A module function, not the bound method: the topic must not keep every app ever built alive.
    events.subscribe(topics.MONITOR_CHANGED, _on_change)
    events.subscribe(topics.SCHEDULER_STOPPED, _on_scheduler_stopped)
    return run
