"""Computing the widget results of the dashboards people look at as each tick begins, so the
first viewer of a tick reads a shared result instead of waiting for the computation.

An open dashboard asks for its data every tick (each ``live_update``; a public link every
interval), and each such batch records the dashboard's saved queries in the cache
(``WidgetCache.note_viewed``). Just after every tick's edge (wall-clock multiples of
``LIVE_UPDATE_INTERVAL``, the cache's own ticks) a background loop asks the cache for the
distinct queries of the dashboards read within the last ``DASHBOARD_WARM_SECONDS``. It goes
through ``get_or_compute`` like a request, so a query is still computed once per tick whoever
asks first (a viewer arriving meanwhile waits for that one computation), and a dashboard no one
read lately costs nothing. ``0`` turns warming off.

The cache belongs to a process, so each process warms what its own viewers read: the loop is
started by a scheduler job in every process (``Warmer.start``) and stops with the scheduler.
"""
from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

import database
from services.dashboards import widgets
from services.dashboards.cache import WidgetCache
from services.dashboards.model import query_key
from services.infra import breaker as circuit_breaker
from services.infra import bus as events
from services.infra import topics

log = logging.getLogger(__name__)

EXTENSION = "dashboards_warmer"
SLICE = 0.2  # longest sleep between looks at the stop flag


def distinct_queries(cache: WidgetCache, window: float) -> list[dict[str, Any]]:
    """One copy of each query of the dashboards read in the last ``window`` seconds."""
    out: dict[str, dict[str, Any]] = {}
    for queries in cache.recently_viewed(window):
        for q in queries:
            out.setdefault(query_key(q), q)
    return list(out.values())


def warm_once(app: Flask) -> int:
    """Compute (or find already computed) this tick's results of the recently read dashboards'
    queries; answers how many distinct queries that was."""
    window = float(app.config.get("DASHBOARD_WARM_SECONDS") or 0)
    cache: WidgetCache = app.extensions["dashboards_cache"]
    queries = distinct_queries(cache, window) if window > 0 else []
    if queries:
        with database.session_scope(app) as session:
            widgets.run_batch(session, queries, cache, database.utcnow, app.config)
    return len(queries)


@dataclass(eq=False)  # hashed by identity: kept in a WeakSet
class Warmer:
    """The warming loop of one app (``app.extensions['dashboards_warmer']``)."""

    app: Flask
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop_event: threading.Event = field(default_factory=threading.Event)
    task: Any = None
    running: bool = False
    warmed_tick: int | None = None

    def start(self) -> bool:
        """Start the loop once (False when it runs already or warming is off)."""
        from extensions import socketio

        with self.lock:
            if (self.running or not float(self.app.config.get("DASHBOARD_WARM_SECONDS") or 0) > 0
                    or not _scheduler_running(self.app)):
                # Only beside the scheduler loop: a tick run by hand (tests, a script) must not
                # leave a thread behind that outlives its app.
                return False
            self.running = True
            self.stop_event.clear()
            self.task = socketio.start_background_task(self._loop)
        return True

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the loop and wait for a warm under way to end."""
        with self.lock:
            task, self.task = self.task, None
            self.stop_event.set()
        if task is not None and hasattr(task, "join"):
            task.join(timeout)
        with self.lock:
            self.running = False

    def _loop(self) -> None:
        from extensions import socketio

        cache: WidgetCache = self.app.extensions["dashboards_cache"]
        interval = max(cache.interval, 0.05)
        while not self.stop_event.is_set() and _scheduler_running(self.app):
            if cache.tick() == self.warmed_tick:
                # Until the next edge; in slices, so stop() does not wait a whole tick.
                socketio.sleep(min(SLICE, interval - cache.clock() % interval + 0.001))
                continue
            self.warmed_tick = cache.tick()
            try:
                with self.app.app_context():
                    warm_once(self.app)
            except Exception as exc:  # logged; viewers then compute as they ask, as without warming
                circuit_breaker.log_failure(log, "warming the dashboards' widget results", exc)
        with self.lock:
            self.running = False
        log.info("dashboard warming stopped")


def _scheduler_running(app: Flask) -> bool:
    live = app.extensions.get("live")
    return bool(live is not None and live.running and not live.stop_event.is_set())


_warmers: "weakref.WeakSet[Warmer]" = weakref.WeakSet()


def _on_scheduler_stopped(app: Any) -> None:
    for warmer in list(_warmers):
        if warmer.app is app and warmer.running:
            warmer.stop()


def install(app: Flask) -> Warmer:
    """Create the app's warmer (started later by the scheduler's job) and stop it with the
    scheduler; starts nothing."""
    warmer = Warmer(app)
    app.extensions[EXTENSION] = warmer
    _warmers.add(warmer)
    # A module function, not the bound method: the topic must not keep every app alive.
    events.subscribe(topics.SCHEDULER_STOPPED, _on_scheduler_stopped)
    return warmer
