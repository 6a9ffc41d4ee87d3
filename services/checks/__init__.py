"""Service monitors: is each service, dependency and third-party API up, and how fast.

Public face:
- ``init_app(app)``: the runner (started by the first live tick, so only in the leader
  process), the ``monitor`` socket event for state changes;
- ``service``: create/read/update/delete/export/import monitors, heartbeats;
- ``check_once(app, monitor_id, now=None)``: check one monitor now;
- ``current_values(session)``: per-monitor figures for the metrics catalogue.
"""
from __future__ import annotations

import atexit
import logging
import weakref
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from services import events
from services.checks import models, service, state, storage  # noqa: F401 - the public face
from services.checks.runner import check_once, install, runner

log = logging.getLogger(__name__)
SOCKET_EVENT = "monitor"

__all__ = ["init_app", "check_once", "current_values", "service", "runner", "models"]


def init_app(app: Flask) -> None:
    """Create the runner (not started) and push state changes to the admins' sockets."""
    install(app)
    storage.register_retention()
    events.subscribe(service.TOPIC, _emit)
    try:
        from services import live
    except ImportError:  # a trimmed install without the live layer checks nothing
        log.warning("services.live is not available: monitors are not checked")
        return
    live.register_tick_hook(_start_from_tick)


def _emit(payload: dict) -> None:
    from services import live

    live.emit_to_admins(SOCKET_EVENT, payload)


def _start_from_tick(app: Flask, _session: Session, _snapshot: dict) -> None:
    """Tick hooks run only in the process that leads, so this starts the runner there, once."""
    run = runner(app)
    if not run.running and run.start():
        atexit.register(_stop_at_exit, weakref.ref(app))


def _stop_at_exit(ref: "weakref.ref[Flask]") -> None:
    app = ref()
    if app is not None:
        runner(app).stop(timeout=2.0)


def current_values(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each monitor's current figures, one dict per monitor, for the metrics catalogue.

    ``monitor_up`` (1 up, 0 down, None pending or paused), ``monitor_latency_ms`` (last check),
    ``monitor_failures`` (failures in a row), uptime % over 24 h / 7 d / 30 d, and from the
    ``database`` and ``redis`` kinds ``db_pool_usage_percent``, ``db_connections_percent`` and
    ``redis_clients_percent`` when the last check measured them.
    """
    from database import utcnow

    now = now or utcnow()
    monitors = service.list_monitors(session)
    figures = storage.uptimes(session, [m.id for m in monitors], now)
    out = []
    for m in monitors:
        detail = m.last_detail or {}
        values = {
            "monitor_up": None if m.paused or m.state == "pending" else (1 if m.state == "up" else 0),
            "monitor_latency_ms": m.last_latency_ms, "monitor_failures": m.consecutive_failures,
            **{k: v for k, v in (figures.get(m.id) or {}).items() if k.startswith("uptime_")},
        }
        for key, source in (("db_pool_usage_percent", "pool_usage_percent"),
                            ("db_connections_percent", "connections_percent"),
                            ("redis_clients_percent", "clients_percent")):
            if detail.get(source) is not None:
                values[key] = detail[source]
        out.append({"id": m.id, "name": m.name, "kind": m.kind,
                    "labels": {"monitor": m.name, **(m.labels or {})}, "status": state.display_status(m),
                    "values": values})
    return out
