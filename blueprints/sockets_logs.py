"""Live tail of the logs over Socket.IO.

Client events: ``logs_subscribe`` ``{"level", "service", "q"}`` (replaces earlier
filters) and ``logs_unsubscribe``. Server events: ``logs_status``
``{"subscribed": bool, "filters"}``, ``log_entry`` (one stored entry that matches)
and ``error`` ``{"code", "message"}``. Entries arrive from the "log.stored" topic,
published by ingest and by the panel's own log writer in this process, and from "log.remote":
entries other processes stored, relayed through Redis (``services.logs.relay``).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import asdict
from typing import Any

from flask import request
from flask_login import current_user

from extensions import socketio
from services.infra import bus as events
from services.infra import topics
from services.logs import LogFilters, LogQueryError

log = logging.getLogger(__name__)
_subscriptions: dict[str, LogFilters] = {}
_lock = threading.Lock()


def logs_subscribe(data: Any = None):
    """Start (or re-filter) this connection's live tail; logged-in users only."""
    if not current_user.is_authenticated:
        socketio.emit("error", {"code": "unauthorized", "message": "Log in to tail the logs."},
                      to=request.sid)
        return
    try:
        filters = LogFilters.from_mapping(data if isinstance(data, dict) else {})
    except LogQueryError as exc:
        socketio.emit("error", {"code": "bad_request", "message": exc.message, "field": exc.field},
                      to=request.sid)
        return
    with _lock:
        _subscriptions[request.sid] = filters
    socketio.emit("logs_status", {"subscribed": True, "filters": _public(filters)}, to=request.sid)


def logs_unsubscribe(_data: Any = None):
    """Stop this connection's live tail."""
    with _lock:
        _subscriptions.pop(request.sid, None)
    socketio.emit("logs_status", {"subscribed": False, "filters": None}, to=request.sid)


def _public(filters: LogFilters) -> dict[str, Any]:
    return {k: v for k, v in asdict(filters).items() if k in ("min_level", "service", "q")}


def _connected(sid: str) -> bool:
    server = socketio.server
    try:
        return server is not None and server.manager.is_connected(sid, "/")
    except (KeyError, AttributeError):
        return False


def on_log_stored(payload: dict[str, Any]) -> None:
    """Send a stored entry to every subscribed connection whose filters it matches."""
    with _lock:
        subscribers = list(_subscriptions.items())
    for sid, filters in subscribers:
        # No disconnect hook of our own (the connection module owns it): forget gone sids here.
        if not _connected(sid):
            with _lock:
                _subscriptions.pop(sid, None)
            continue
        if filters.matches(payload):
            socketio.emit("log_entry", payload, to=sid)


def subscriber_count() -> int:
    """How many connections tail the logs in this process."""
    with _lock:
        return len(_subscriptions)


def init_app(_app) -> None:
    """Register the socket handlers on this app's server and listen to stored entries."""
    # Registered per app: a decorator at import time binds to whichever server existed then.
    socketio.on_event("logs_subscribe", logs_subscribe)
    socketio.on_event("logs_unsubscribe", logs_unsubscribe)
    events.subscribe(topics.LOG_STORED, on_log_stored)
    events.subscribe(topics.LOG_REMOTE, on_log_stored)
