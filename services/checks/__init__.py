"""Service monitors: is each service, dependency and third-party API up, and how fast.

Public face:
- ``init_app(app)``: the runner (created, not started) and the retention of results and rollups;
- ``start_runner(app)``: the periodic job (``services.live.jobs``, leader only) that starts the
  runner once in the process that leads;
- ``service``: create/read/update/delete/export/import monitors, heartbeats;
- ``check_once(app, monitor_id, now=None)``: check one monitor now;
- ``current_values(session)``: per-monitor figures, also in the metrics catalogue
  (``monitor_up``, ``monitor_latency_ms``, ``uptime_*``: ``services.checks.metrics``).

State changes are published on the bus (``topics.MONITOR_CHANGED``); the live layer emits them
as the admins' ``monitor`` socket event.
"""
from __future__ import annotations

import atexit
import logging
import weakref

from flask import Flask

from services.checks import metrics as _metrics
from services.checks import models, service, state, storage  # noqa: F401 - the public face
from services.checks.runner import check_once, install, runner, scheduler_running
from services.checks.values import current_values

log = logging.getLogger(__name__)

__all__ = ["init_app", "start_runner", "check_once", "current_values", "service", "runner", "models"]


def init_app(app: Flask) -> None:
    """Create the runner (not started) and hook results and rollups into the daily prune."""
    install(app)
    storage.register_retention()
    _metrics.register_providers()


def start_runner(app: Flask) -> bool:
    """Start the app's runner once (the leader-only periodic job); True when it started now.

    Only from a running scheduler loop: a tick run by hand (tests, the CLI) starts no thread
    that would outlive its app. The runner stops when that loop stops.
    """
    run = runner(app)
    if run.running or not scheduler_running(app):
        return False
    run.bound_to_scheduler = True
    if not run.start():
        return False
    atexit.register(_stop_at_exit, weakref.ref(app))
    return True


def _stop_at_exit(ref: "weakref.ref[Flask]") -> None:
    app = ref()
    if app is not None:
        runner(app).stop(timeout=2.0)
