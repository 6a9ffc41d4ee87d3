"""Dashboards people build: widgets on any catalogue metric or panel list, laid out on a grid,
private, shared with roles or public by link.

The public face: ``init_app`` (settings, the shared widget cache, the default layout on first
start), ``service`` (storage and visibility), ``widgets`` (running batches of widget queries),
``warm`` (computing the viewed dashboards' results as each tick begins) and ``cache_of`` (the
per-tick cache of an app, with its counters).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask

import database
from services.dashboards import service, warm, widgets
from services.dashboards.cache import WidgetCache
from services.ops import schema_lock

log = logging.getLogger(__name__)

__all__ = ["init_app", "load_config", "service", "warm", "widgets", "cache_of"]


def load_config(env) -> dict[str, Any]:
    """This feature's settings (``env(name, default, cast)`` reads one)."""
    return {"PUBLIC_DASHBOARDS": env("PUBLIC_DASHBOARDS", False, bool),
            # Seconds a dashboard counts as looked at after its last data request: its widget
            # results are computed as each tick begins meanwhile (0: only when asked).
            "DASHBOARD_WARM_SECONDS": env("DASHBOARD_WARM_SECONDS", 60.0, float)}


def cache_of(app: Flask) -> WidgetCache:
    """The app's shared widget results."""
    return app.extensions["dashboards_cache"]


def init_app(app: Flask) -> None:
    """Make the widget cache (TTL: one live tick), its warmer (started by the scheduler) and the
    default layout if there is none yet."""
    app.extensions["dashboards_cache"] = WidgetCache(float(app.config["LIVE_UPDATE_INTERVAL"]))
    warm.install(app)
    try:
        # Under the schema lock: two processes starting together make one default, not two.
        with schema_lock.hold(database.get_engine(app)), database.session_scope(app) as session:
            if service.ensure_default(session) is not None:
                log.info("created the default dashboard %r", service.defaults.TITLE)
    except Exception:  # the panel must start even if this one insert fails (database down)
        log.warning("could not create the default dashboard", exc_info=True)
