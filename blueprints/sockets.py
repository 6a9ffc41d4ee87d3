"""Socket.IO on the default namespace: logged-in sessions only, the ``admin`` room, live updates.

Client events: ``join_admin_room``, ``leave_admin_room``, ``request_live_update``. Server
events: ``status`` ``{"room", "joined"}``, ``live_update`` (the snapshot), ``feed`` (what was
ingested since the last tick), ``error`` ``{"code", "message"}``. Authentication happens in
``connect`` with ``current_user`` (never ``login_required`` on a handler); a foreign Origin is
refused by Flask-SocketIO itself (``cors_allowed_origins`` is never ``*``). A logout ends
every socket of that user at once, in every process when Redis is configured; any other end
of a session (password change, timeouts, a removed account) within one scheduler tick
(``services.live.sockets``). Either way the socket gets ``error`` ``unauthorized`` first.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, request, session
from flask_login import current_user
# Flask-SocketIO passes only its own ConnectionRefusedError through to refuse the handshake.
from flask_socketio import ConnectionRefusedError, join_room, leave_room  # noqa: A004

import database
from extensions import socketio
from services.infra import breaker as circuit_breaker
from services.infra import bus as events
from services.infra import topics
from services.live import scheduler as live
from services.live import ROOM
from services.live import sockets as socket_registry
from services.accounts import Ended, SessionRef

SESSION_ENDED = Ended("ended", "Your session has ended; log in again.")
LOGGED_OUT = Ended("logged_out", "You logged out; log in again.")

log = logging.getLogger(__name__)


def _error(code: str, message: str) -> None:
    socketio.emit("error", {"code": code, "message": message}, to=request.sid)


def _registry():
    """The cross-process sid registry (Redis) of the current app, or None."""
    return current_app.extensions["live"].leader


def on_connect(auth: Any = None):
    """Accept only a logged-in, live session, and at most ``SOCKETS_PER_USER`` per user.

    A refused session or a user over the cap is told why (``error``) and disconnected at once.
    """
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("unauthorized: log in first")
    ref = SessionRef(user_id=current_user.id, token=current_user.session_token,
                     login_id=session.get("login_id"), auth_at=float(session.get("auth_at", 0)))
    _release_connection()
    why = socket_registry.admit(current_app._get_current_object(), request.sid, ref)
    if why is not None:
        code = why.reason if why.reason == socket_registry.TOO_MANY else socket_registry.UNAUTHORIZED
        # Told after the handshake completes, so the client really receives the reason.
        socketio.start_background_task(socket_registry.end_after_connect, request.sid, why, code)
        return True
    registry = _registry()
    if registry is not None:
        try:
            registry.add_sid(current_user.id, request.sid)
        except Exception:  # Redis down: a logout then only reaches this process's sockets
            log.warning("could not register socket %s in Redis", request.sid, exc_info=True)
    return True


def on_disconnect(*_reason: Any) -> None:
    """Forget the socket."""
    ref = socket_registry.registry().remove(request.sid)
    registry = _registry()
    if registry is not None and ref is not None:
        try:
            registry.remove_sid(ref.user_id, request.sid)
        except Exception:
            log.warning("could not unregister socket %s in Redis", request.sid, exc_info=True)


def _release_connection() -> None:
    """Give the connection that loaded ``current_user`` back to the pool before going on.

    A handler holding one while it waits for another (the snapshot's computation, the
    session check) let a burst of joins take every pooled connection and wait for each
    other; the handshakes behind them then waited past the clients' timeout.
    """
    database.get_session().close()


def _still_logged_in() -> bool:
    # The session is checked again on every event, besides the check of every tick.
    if current_user.is_authenticated and socket_registry.registry().knows(request.sid):
        _release_connection()
        return True
    socket_registry.end_socket(request.sid, SESSION_ENDED)
    return False


def join_admin_room(data: Any = None) -> None:
    """Put this socket in room ``admin``; answer ``status`` and the current snapshot at once."""
    if not _still_logged_in():
        return
    room = data.get("room", ROOM) if isinstance(data, dict) else ROOM
    if room != ROOM:
        _error("bad_request", f"unknown room {room!r}; the only room is {ROOM!r}")
        return
    join_room(ROOM)
    socketio.emit("status", {"room": ROOM, "joined": True}, to=request.sid)
    socketio.emit("live_update", live.current_snapshot(), to=request.sid)


def leave_admin_room(_data: Any = None) -> None:
    """Take this socket out of room ``admin``: no more pushes."""
    leave_room(ROOM)
    socketio.emit("status", {"room": ROOM, "joined": False}, to=request.sid)


def request_live_update(_data: Any = None) -> None:
    """Answer this socket at once with the cached snapshot."""
    if not _still_logged_in():
        return
    socketio.emit("live_update", live.current_snapshot(), to=request.sid)


def unknown_event(event: str, *_args: Any) -> None:
    """Any event nobody handles gets an ``error`` instead of silence."""
    _error("unknown_event", f"unknown event {event!r}")


def on_handler_error(exc: Exception) -> None:
    """A handler failed: log it, tell that client without details (or that the database is down)."""
    if circuit_breaker.is_outage(exc):
        circuit_breaker.note_outage(log, "handling a Socket.IO event", exc)
        _error("database_unavailable", "The database is unavailable right now; try again shortly.")
        return
    log.exception("Socket.IO handler failed", exc_info=exc)
    _error("internal_error", "Something went wrong on our side.")


def _on_logged_out(payload: dict) -> None:
    """``user.logged_out``: end every socket of that user at once (all processes with Redis)."""
    user_id = payload.get("user_id")
    sids = socket_registry.registry().sids_of(user_id)
    try:
        registry = _registry()
        if registry is not None:
            sids.update(registry.pop_sids(user_id))
    except Exception:
        log.warning("could not read the sockets of user %s from Redis", user_id, exc_info=True)
    for sid in sids:
        socket_registry.end_socket(sid, LOGGED_OUT)


HANDLERS = (("connect", on_connect), ("disconnect", on_disconnect),
            ("join_admin_room", join_admin_room), ("leave_admin_room", leave_admin_room),
            ("request_live_update", request_live_update), ("*", unknown_event))


def init_app(app: Flask) -> None:
    """Register the handlers on this app's Socket.IO server and subscribe to logouts.

    Registered here rather than by decorators at import: ``socketio.on`` only binds to the
    server that exists at that moment, and every ``create_app`` makes a new one.
    """
    for event, handler in HANDLERS:
        socketio.on_event(event, handler)
    socketio.on_error_default(on_handler_error)
    events.subscribe(topics.USER_LOGGED_OUT, _on_logged_out)
