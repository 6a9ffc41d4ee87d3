"""The admins' Socket.IO room: what every live event is emitted to.

Other features never emit themselves: they publish on the bus (``services.infra.topics``) and
the live layer, subscribed in ``services.live.scheduler.init_app``, emits here.
"""
from __future__ import annotations

import logging
from typing import Any

from extensions import socketio
from services.live.coalesce import Coalescer

log = logging.getLogger(__name__)

ROOM = "admin"


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


def on_alert_changed(payload: dict[str, Any]) -> None:
    """A committed alert change (topic ``alert.changed``) becomes the admins' ``alert`` event."""
    try:
        emit_to_admins("alert", payload)
    except Exception:  # a socket problem must not undo a committed alert change
        log.exception("could not emit the alert event to admins")


def on_monitor_changed(payload: dict[str, Any]) -> None:
    """A committed monitor change (topic ``monitor.changed``) becomes the admins' ``monitor`` event."""
    try:
        emit_to_admins("monitor", payload)
    except Exception:  # a socket problem must not undo a committed monitor change
        log.exception("could not emit the monitor event to admins")


def _emit_metrics(names: list[str]) -> None:
    try:
        emit_to_admins("metrics", {"names": names})
    except Exception:  # a socket problem must not undo a committed ingest
        log.exception("could not emit the metrics event to admins")


# At most one ``metrics`` event a second to the room, naming every metric stored meanwhile.
METRICS_EVENTS = Coalescer(1.0, _emit_metrics)


def on_metrics_stored(payload: dict[str, Any]) -> None:
    """Stored pushed points (topic ``metrics.stored``) become the admins' ``metrics`` event, naming
    the metrics that got points so a page charting one of them refetches it (coalesced: see
    ``services.live.coalesce``)."""
    METRICS_EVENTS.add(payload.get("names") or [])
