"""The runner: every monitor checked on its own interval, in a small pool of worker threads.

One loop per process wakes every ``MONITOR_LOOP_SECONDS``; each cycle writes the results of the
checks that finished since the last one and reads the settings of the monitors now due, in one
transaction (``services.checks.recorder``), then hands those checks to the pool. It never waits
for a check, so a target that hangs holds one worker for at most its timeout and delays no
other check, no heartbeat and no live tick. A monitor is never checked twice at once: it stays
in flight until its result is written, at most one loop period after its check ended. Only
the process that runs the live scheduler checks: the runner is started by a leader-only
periodic job (``services.live.jobs``) and skips its cycles whenever this process stops being
the leader (it still writes what finished while it led). Nothing starts at import time.
"""
from __future__ import annotations

import functools
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
from services.checks import recorder, state
from services.checks.kinds import CheckContext, run_check
from services.checks.models import Monitor
from services.checks.recorder import record, spec_of

log = logging.getLogger(__name__)
EXTENSION = "checks_runner"
_LIST = select(Monitor.id, Monitor.interval_seconds, Monitor.paused)
__all__ = ["Runner", "check_once", "record", "spec_of", "settings_of", "install", "runner",
           "scheduler_running"]


def settings_of(app: Flask) -> dict:
    """The settings checks read (plain values, safe to hand to worker threads)."""
    cfg = app.config
    return {"MONITOR_ALLOW_PRIVATE": bool(cfg.get("MONITOR_ALLOW_PRIVATE")),
            "MONITOR_BODY_LIMIT": int(cfg.get("MONITOR_BODY_LIMIT") or 1_048_576),
            "REDIS_URL": cfg.get("REDIS_URL")}


def check_once(app: Flask, monitor_id: int, now: datetime | None = None) -> state.Step | None:
    """Check one monitor now, store the result and advance its state (announcing changes).

    Tests and bench scripts call this, with a fixed ``now``; the result is written the way the
    runner writes a cycle's results (a batch of one). None when the monitor is gone or paused.
    """
    spec = recorder.read_specs(app, [monitor_id]).get(monitor_id)
    if spec is None:
        return None
    now = now or utcnow()
    outcome = run_check(spec, CheckContext(settings_of(app), database.get_engine(app), now))
    steps, _specs, _later = recorder.write(app, [recorder.Finished(monitor_id, outcome, now)])
    return steps.get(monitor_id)  # None also when the database could not take it (logged)


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
        self.finished: list[recorder.Finished] = []  # checks done, results not written yet
        self.write_lock = threading.Lock()  # one write of results at a time, in finishing order
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
        self.write()  # what finished since the last cycle (checks ending later write their own)

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
        with database.get_engine(self.app).connect() as conn:  # a read: nothing to commit
            self.specs = [tuple(r) for r in conn.execute(_LIST)]
        self.loaded_at = now
        known = {s[0] for s in self.specs}
        for gone in set(self.next_due) - known:
            self.next_due.pop(gone, None)

    def cycle(self, now: float | None = None) -> int:
        """Write the finished results and hand every due monitor to the pool; returns how many
        checks were started. A follower writes what finished while it led, and starts none."""
        if self.pool is None or self.stop_event.is_set():
            return 0
        follower = self._is_follower()
        now = time.monotonic() if now is None else now
        due: list[int] = []
        if not follower:
            self._reload(now)
            for monitor_id, interval, paused in self.specs:
                if paused or monitor_id in self.in_flight or self.next_due.get(monitor_id, 0.0) > now:
                    continue
                self.next_due[monitor_id] = now + interval
                due.append(monitor_id)
        with self.lock:
            self.in_flight.update(due)
        try:
            specs = self.write(due)
        except BaseException:  # none of them starts: leave them free for the next cycle
            with self.lock:
                self.in_flight.difference_update(due)
            raise
        settings, engine = settings_of(self.app), database.get_engine(self.app)
        started = 0
        for monitor_id in due:
            spec = specs.get(monitor_id)
            if spec is None:  # gone, paused meanwhile, or not readable: not checked this time
                with self.lock:
                    self.in_flight.discard(monitor_id)
                continue
            future = self.pool.submit(self._work, monitor_id, spec, settings, engine)
            future.add_done_callback(functools.partial(self._free_if_cancelled, monitor_id))
            started += 1
        self.checks_started += started
        if not follower:
            self.cycles += 1
        return started

    def write(self, read_ids: list[int] | None = None) -> dict[int, dict]:
        """Store every finished result in one transaction that also reads the specs of
        ``read_ids``; the written monitors may be checked again. Returns the specs read.

        Results the database could not take wait for the next write, first in line, and their
        monitors stay in flight (not checked again before their result is stored).
        """
        later: list[recorder.Finished] = []
        with self.write_lock:
            with self.lock:
                done, self.finished = self.finished, []
            if not done and not read_ids:
                return {}
            try:
                with self.app.app_context():
                    _steps, specs, later = recorder.write(self.app, done, read_ids or ())
            finally:
                kept = {d.monitor_id for d in later}
                with self.lock:
                    self.finished[:0] = later
                    self.in_flight.difference_update(d.monitor_id for d in done if d.monitor_id not in kept)
        return specs

    def _free_if_cancelled(self, monitor_id: int, future: Any) -> None:
        """A check that never ran (cancelled by ``stop``) leaves no result: free its monitor, or a
        restarted runner would never check it again."""
        if future.cancelled():
            with self.lock:
                self.in_flight.discard(monitor_id)

    def _work(self, monitor_id: int, spec: dict, settings: dict, engine: Any) -> None:
        at = utcnow()
        try:
            outcome = run_check(spec, CheckContext(settings, engine, at))
        except BaseException:  # run_check answers every failure; this is a worker going away
            with self.lock:
                self.in_flight.discard(monitor_id)
            raise
        with self.lock:
            self.finished.append(recorder.Finished(monitor_id, outcome, at))
        if self.stop_event.is_set():  # no cycle will come to write it
            try:
                self.write()
            except Exception as exc:  # logged; a worker thread has nobody else to tell
                circuit_breaker.log_failure(log, f"storing the result of monitor {monitor_id}", exc)

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
        try:
            self.write()  # the results of the last cycle's checks
        except Exception as exc:  # logged; the runner is stopping anyway
            circuit_breaker.log_failure(log, "storing the last monitor results", exc)
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
