"""The one scheduler loop: flush request timings, sample the machine, push ``live_update``.

Each tick (every ``min(LIVE_UPDATE_INTERVAL, SAMPLE_INTERVAL)`` seconds):
0. every process ends its sockets whose session has ended (``services.live.sockets``);
1. every process flushes its request timer into ``request_stats`` (rows add up across processes)
   and emits the transactions/activities it announced since the last tick as one ``feed`` event;
2. the leader (the only process when there is no ``REDIS_URL``; the holder of a Redis lock when
   there is) samples the machine when a sample is due, builds the snapshot ONCE when a push is
   due, caches it, emits it to room ``admin`` with a ``seq`` that grows by one, then runs the
   tick hooks (alert rules) with that same snapshot.
An exception in a tick is logged and the loop goes on. The loop is started once per process
under a lock (``start``) by ``app.py`` and lazily by the first real request; never by the CLI or
by tests that leave ``SCHEDULER_ENABLED`` off.
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from flask import Flask, current_app, has_app_context

import database
from extensions import socketio
from services.infra import breaker as circuit_breaker
from services.infra import bus as events
from services.monitor import self_cost
from services.live import sockets as socket_registry

log = logging.getLogger(__name__)

ROOM = "admin"
CACHE_NAMESPACE = "live"
CACHE_KEY = "snapshot"
# The feed keeps at most this many unsent items per kind between two ticks (newest win).
FEED_MAX = 200

TickHook = Callable[[Flask, Any, dict], None]
_hooks: list[TickHook] = []
_hooks_lock = threading.Lock()
_feed: dict[str, deque] = {"transactions": deque(maxlen=FEED_MAX),
                           "activities": deque(maxlen=FEED_MAX)}
_feed_lock = threading.Lock()


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
    last_sample: float | None = None
    last_push: float | None = None
    leader: Any = None  # services.live.leader.RedisLeader when REDIS_URL is set
    ticks: int = 0
    failures: int = 0


def _state(app: Flask | None = None) -> LiveState:
    app = app or current_app
    return app.extensions["live"]


def init_app(app: Flask) -> None:
    """Create the live state, subscribe to announcements, and start lazily on the first request.

    Nothing starts here: the CLI and tests build apps without a scheduler.
    """
    st = LiveState()
    app.extensions["live"] = st
    if app.config.get("REDIS_URL"):
        from services.live.leader import RedisLeader

        ttl = max(10.0, 3 * _period(app))
        st.leader = RedisLeader(app.config["REDIS_URL"], app.config["REDIS_NAMESPACE"], ttl)
    events.subscribe("transaction.stored", _on_transaction)
    events.subscribe("activity.stored", _on_activity)

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
        from services.monitor import performance_monitor

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
    if st.leader is not None:
        st.leader.release()


def _stop_at_exit(ref: "weakref.ref[Flask]") -> None:
    app = ref()
    if app is not None:
        stop(app, timeout=2.0)


def register_tick_hook(fn: TickHook) -> None:
    """Run ``fn(app, session, snapshot)`` after each snapshot (in its own DB transaction).

    A hook that raises is logged and the tick goes on; registering twice is a no-op.
    """
    with _hooks_lock:
        if fn not in _hooks:
            _hooks.append(fn)


def emit_to_admins(event: str, payload: Any) -> bool:
    """Emit ``event`` to room ``admin`` (from a request or any thread); False if it failed."""
    if socketio.server is None:
        log.debug("no Socket.IO server yet; %s not emitted", event)
        return False
    try:
        socketio.emit(event, payload, to=ROOM)
        # Under gevent the sockets' writers run only when this greenlet yields: let them deliver
        # now, not after whatever the caller does next (a tick's snapshot and alert rules).
        socketio.sleep(0)
        return True
    except Exception:  # a broken message queue must not break the caller (an ingest, a tick)
        log.exception("could not emit %s to room %s", event, ROOM)
        return False


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
        from services.live import snapshot

        with database.session_scope(app) as session:
            return snapshot.build(app, session, st.seq)

    from services.infra import cache as cache_manager

    try:
        return cache_manager.get_or_compute(CACHE_NAMESPACE, CACHE_KEY, compute)
    except RuntimeError:  # no cache bound to this app (a bare app in a script)
        log.warning("live cache unavailable; computing the snapshot", exc_info=True)
        return compute()


def tick(app: Flask, now: float | None = None) -> dict | None:
    """Run one tick now; returns the snapshot pushed (None when nothing was pushed).

    Public so the loop and tests share one code path.
    """
    from services.monitor import performance_monitor
    from services.live import snapshot

    st = _state(app)
    now = time.monotonic() if now is None else now
    try:
        performance_monitor.flush(app)
    except Exception as exc:  # the sampling and the push must still happen
        circuit_breaker.log_failure(log, "flushing request timings", exc)
    try:  # before anything is pushed: a socket whose session ended gets nothing more
        socket_registry.check(app)
    except Exception as exc:
        circuit_breaker.log_failure(log, "checking the sessions of open sockets", exc)
    _emit_feed()
    if st.leader is not None and not st.leader.check():
        return None
    if st.last_sample is None or now - st.last_sample >= float(app.config["SAMPLE_INTERVAL"]) * 0.95:
        st.last_sample = now
        try:
            performance_monitor.sample(app)
        except Exception as exc:  # the push goes on with the previous sample
            circuit_breaker.log_failure(log, "storing a system sample", exc)
    if st.last_push is not None and now - st.last_push < float(app.config["LIVE_UPDATE_INTERVAL"]) * 0.95:
        return None
    st.last_push = now
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
    _run_hooks(app, snap)
    return snap


def _run_hooks(app: Flask, snap: dict) -> None:
    with _hooks_lock:
        hooks = list(_hooks)
    for hook in hooks:
        try:
            with database.session_scope(app) as session:
                hook(app, session, snap)
        except Exception as exc:  # one broken hook must not stop the others or the loop
            circuit_breaker.log_failure(log, f"tick hook {hook!r}", exc)


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
    from services.infra import cache as cache_manager

    try:
        cache_manager.set(CACHE_NAMESPACE, CACHE_KEY, snap)
    except Exception:
        log.warning("live cache unavailable", exc_info=True)


# --- the feed: what ingest announced, sent to the room once per tick ---------------------------

def _on_transaction(payload: dict) -> None:
    with _feed_lock:
        _feed["transactions"].append(payload)


def _on_activity(payload: dict) -> None:
    with _feed_lock:
        _feed["activities"].append(payload)


def drain_feed() -> dict[str, list]:
    """Take what was announced since the last call (oldest first)."""
    with _feed_lock:
        batch = {kind: list(items) for kind, items in _feed.items()}
        for items in _feed.values():
            items.clear()
    return batch


def _emit_feed() -> None:
    batch = drain_feed()
    if any(batch.values()):
        emit_to_admins("feed", batch)
