"""The one scheduler loop: each tick runs the periodic jobs of ``services.live.jobs``.

Each tick (every ``min(LIVE_UPDATE_INTERVAL, SAMPLE_INTERVAL)`` seconds) runs the list that
``periodic_job_definitions(app)`` returns, in order: the jobs of every process first (flush
request timings, end sockets whose session ended, emit the feed); then, in the leader only (the
only process when there is no ``REDIS_URL``; the holder of a Redis lock when there is), the jobs
that are due (sample the machine, build and push the snapshot once with a ``seq`` that grows by
one), and after a push the jobs that read the pushed snapshot (alert rules, the daily prune),
each in its own database transaction.
A job that fails is logged and the tick goes on, except the feed and the push (the tick then
counts as failed). The loop is started once per process under a lock (``start``) by ``app.py``
and lazily by the first real request; never by the CLI or by tests that leave
``SCHEDULER_ENABLED`` off.
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_app_context

import database
from extensions import socketio
from services.infra import breaker as circuit_breaker
from services.infra import bus as events
from services.infra import cache as cache_manager
from services.infra import topics
from services.live import feed, room, snapshot
from services.live.leader import RedisLeader
from services.live.room import emit_to_admins
from services.monitor import performance_monitor, self_cost

log = logging.getLogger(__name__)

CACHE_NAMESPACE = "live"
CACHE_KEY = "snapshot"


@dataclass
class LiveState:
    """What one app's scheduler keeps between ticks (``app.extensions['live']``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    stop_event: threading.Event = field(default_factory=threading.Event)
    running: bool = False
    start_tried: bool = False
    task: Any = None
    seq: int = 0
    last_tick: datetime | None = None
    leader: Any = None  # services.live.leader.RedisLeader when REDIS_URL is set
    jobs: list = field(default_factory=list)  # services.live.jobs.Job, in the order they run
    last_run: dict[str, float] = field(default_factory=dict)  # job name -> monotonic time
    ticks: int = 0
    failures: int = 0


def _state(app: Flask | None = None) -> LiveState:
    app = app or current_app
    return app.extensions["live"]


def init_app(app: Flask, jobs: list) -> None:
    """Keep the periodic ``jobs``, subscribe to announcements, start lazily on the first request.

    Nothing starts here: the CLI and tests build apps without a scheduler.
    """
    st = LiveState(jobs=list(jobs))
    app.extensions["live"] = st
    if app.config.get("REDIS_URL"):
        ttl = max(10.0, 3 * _period(app))
        st.leader = RedisLeader(app.config["REDIS_URL"], app.config["REDIS_NAMESPACE"], ttl)
    events.subscribe(topics.TRANSACTION_STORED, feed.on_transaction)
    events.subscribe(topics.ACTIVITY_STORED, feed.on_activity)
    events.subscribe(topics.ALERT_CHANGED, room.on_alert_changed)
    events.subscribe(topics.MONITOR_CHANGED, room.on_monitor_changed)
    events.subscribe(topics.METRICS_STORED, room.on_metrics_stored)
    room.METRICS_EVENTS.discard()

    @app.before_request
    def _start_on_first_request():
        if not st.start_tried:
            start(app)


def _period(app: Flask) -> float:
    return max(0.05, min(float(app.config["LIVE_UPDATE_INTERVAL"]),
                         float(app.config["SAMPLE_INTERVAL"])))


def start(app: Flask) -> bool:
    """Start the loop once per app; no-op (False) if it runs already or SCHEDULER_ENABLED is off."""
    st = _state(app)
    with st.lock:
        st.start_tried = True
        if st.running or not app.config.get("SCHEDULER_ENABLED"):
            return False
        st.running = True
        st.stop_event.clear()
        performance_monitor.prime(app)
        st.task = socketio.start_background_task(_loop, app, st)
    # python app.py stops the loop itself; under gunicorn this is what hands the Redis lock
    # over when the worker exits (SIGTERM), instead of leaving it to expire.
    atexit.register(_stop_at_exit, weakref.ref(app))
    log.info("live scheduler started (push every %ss, sample every %ss)",
             app.config["LIVE_UPDATE_INTERVAL"], app.config["SAMPLE_INTERVAL"])
    return True


def stop(app: Flask, timeout: float = 5.0) -> None:
    """Stop the loop, wait for it to end, and hand the Redis lock over."""
    st = _state(app)
    with st.lock:
        task, st.task = st.task, None
        st.stop_event.set()
    if task is not None and hasattr(task, "join"):
        task.join(timeout)
    with st.lock:
        st.running = False
    # What the leader started beside the loop (the monitor runner) stops with it.
    events.publish(topics.SCHEDULER_STOPPED, app)
    if st.leader is not None:
        st.leader.release()


def _stop_at_exit(ref: "weakref.ref[Flask]") -> None:
    app = ref()
    if app is not None:
        stop(app, timeout=2.0)


def _follower(st: LiveState) -> bool:
    """True in a process that shares a deployment with a leader elsewhere (Redis)."""
    return st.leader is not None and not st.leader.held


def last_tick_at(app: Flask | None = None) -> datetime | None:
    """Aware UTC time of the last good scheduler tick of the deployment, or None."""
    if app is None and not has_app_context():
        return None
    st = _state(app)
    if _follower(st):
        try:
            shared = st.leader.last_tick()
        except Exception:
            log.warning("could not read the last tick time from Redis", exc_info=True)
        else:
            return max((t for t in (shared, st.last_tick) if t is not None), default=None)
    return st.last_tick


def current_snapshot(app: Flask | None = None) -> dict:
    """The latest snapshot: the leader's (Redis) in a follower, else cached, else computed once."""
    app = app or current_app._get_current_object()
    st = _state(app)
    if _follower(st):
        # Read each time (one GET): a local copy could lag the leader's pushes by a cache TTL.
        try:
            shared = st.leader.snapshot()
        except Exception:
            log.warning("could not read the shared snapshot from Redis", exc_info=True)
            shared = None
        if shared is not None:
            return shared

    def compute() -> dict:
        with database.session_scope(app) as session:
            return snapshot.build(app, session, st.seq)

    try:
        return cache_manager.get_or_compute(CACHE_NAMESPACE, CACHE_KEY, compute)
    except RuntimeError:  # no cache bound to this app (a bare app in a script)
        log.warning("live cache unavailable; computing the snapshot", exc_info=True)
        return compute()


def tick(app: Flask, now: float | None = None) -> dict | None:
    """Run one tick now: every job that is due; returns the snapshot pushed (None when none was).

    Public so the loop and tests share one code path.
    """
    st = _state(app)
    now = time.monotonic() if now is None else now
    pushed = None
    leading = None
    for job in st.jobs:
        if job.leader_only:
            if leading is None:  # asked once, before the first job of the leader
                leading = st.leader is None or st.leader.check()
            if not leading:
                continue
        if job.after_push:
            if pushed is not None:
                _run_after_push(app, job, pushed)
            continue
        last = st.last_run.get(job.name)
        if job.interval and last is not None and now - last < job.interval * 0.95:
            continue
        st.last_run[job.name] = now
        if job.critical:
            result = job.run(app)
        else:
            try:
                result = job.run(app)
            except Exception as exc:  # the other jobs of the tick must still run
                circuit_breaker.log_failure(log, job.description, exc)
                continue
        if job.pushes:
            pushed = result
    return pushed


def push_snapshot(app: Flask) -> dict:
    """Build the snapshot once, cache it, emit it to the room as ``live_update``, share it."""
    st = _state(app)
    with database.session_scope(app) as session:
        seq = st.leader.next_seq() if st.leader is not None else st.seq + 1
        snap = snapshot.build(app, session, seq)
    st.seq = seq
    _cache_set(snap)
    # First the push: sharing the snapshot through Redis must not delay it. A push that could
    # not be sent (message queue down) is no good tick: health then shows the scheduler stale.
    if emit_to_admins("live_update", snap):
        st.last_tick = database.utcnow()
    if st.leader is not None:
        st.leader.publish_snapshot(snap, st.last_tick or database.utcnow())
    return snap


def _run_after_push(app: Flask, job, snap: dict) -> None:
    try:
        with database.session_scope(app) as session:
            job.run(app, session, snap)
    except Exception as exc:  # one broken job must not stop the others or the loop
        circuit_breaker.log_failure(log, job.description, exc)


def _loop(app: Flask, st: LiveState) -> None:
    period = _period(app)
    # A short pause first: the first sample then spans a real interval, not a few microseconds.
    socketio.sleep(min(period, 1.0))
    while not st.stop_event.is_set():
        began = time.monotonic()
        try:
            with app.app_context(), self_cost.measure_tick():
                tick(app, began)
            st.ticks += 1
        except Exception as exc:  # logged, and the next tick tries again
            st.failures += 1
            circuit_breaker.log_failure(log, "a live tick (the loop goes on)", exc)
        # A tick over its budget widens the wait instead of letting the ticks fall behind.
        wait = self_cost.next_interval(period)
        # socketio.sleep in short slices so stop() does not wait a whole period.
        while not st.stop_event.is_set():
            left = wait - (time.monotonic() - began)
            if left <= 0:
                break
            socketio.sleep(min(left, 0.2))
    log.info("live scheduler stopped")


def _cache_set(snap: dict) -> None:
    try:
        cache_manager.set(CACHE_NAMESPACE, CACHE_KEY, snap)
    except Exception:
        log.warning("live cache unavailable", exc_info=True)
