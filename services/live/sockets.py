"""The sockets connected to this process, the session behind each, and ending them when it ends.

A socket learns its session once, at the handshake (user, session token, login id, login
time). Every scheduler tick, before anything is pushed, ``check`` asks the database in one
batch whether those sessions still live (``services.accounts.login_sessions.ended``) and ends the
sockets whose session did not: ``error`` ``{"code": "unauthorized", "reason", "message"}``,
then a disconnect. So a logout or password change in any process, an idle or absolute
timeout, or a removed or disabled account stops the pushes within one tick. Each process
checks only its own sockets; with Redis it also publishes its count, so health can show every
process's.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

import database
from extensions import socketio
from services.accounts import login_sessions
from services.accounts import Ended, SessionRef

log = logging.getLogger(__name__)
UNAUTHORIZED = "unauthorized"
TOO_MANY = "too_many_sockets"


@dataclass
class CheckStats:
    """What the last check did (for the benchmark and health)."""

    sockets: int = 0
    ended: int = 0
    seconds: float = 0.0
    failed: bool = False


class SocketRegistry:
    """sid -> the session it connected with, for the sockets of one app in this process."""

    def __init__(self, per_user: int):
        self.per_user = max(1, int(per_user))
        self._lock = threading.Lock()
        self._refs: dict[str, SessionRef] = {}
        self._by_user: dict[int, set[str]] = {}
        self.last = CheckStats()
        self.process = f"{socket.gethostname()}:{os.getpid()}"

    def add(self, sid: str, ref: SessionRef) -> bool:
        """Register ``sid``; False (nothing registered) when its user has ``per_user`` already."""
        with self._lock:
            mine = self._by_user.setdefault(ref.user_id, set())
            if len(mine) >= self.per_user:
                return False
            mine.add(sid)
            self._refs[sid] = ref
            return True

    def remove(self, sid: str) -> SessionRef | None:
        """Forget ``sid``; returns what it was registered with."""
        with self._lock:
            ref = self._refs.pop(sid, None)
            if ref is not None:
                mine = self._by_user.get(ref.user_id, set())
                mine.discard(sid)
                if not mine:
                    self._by_user.pop(ref.user_id, None)
            return ref

    def knows(self, sid: str) -> bool:
        """Whether ``sid`` is registered (admitted and not ended)."""
        with self._lock:
            return sid in self._refs

    def sids_of(self, user_id: Any) -> set[str]:
        """The sockets of one user in this process."""
        with self._lock:
            return set(self._by_user.get(user_id, ()))

    def snapshot(self) -> dict[str, SessionRef]:
        """A copy of every registration."""
        with self._lock:
            return dict(self._refs)

    def count(self) -> int:
        """How many sockets are connected to this process."""
        with self._lock:
            return len(self._refs)

    def users(self) -> int:
        """How many distinct users they belong to."""
        with self._lock:
            return len(self._by_user)


def init_app(app: Flask) -> None:
    """Give ``app`` its registry, capped at ``SOCKETS_PER_USER`` sockets per user and process."""
    app.extensions["socket_registry"] = SocketRegistry(app.config.get("SOCKETS_PER_USER", 20))


def registry(app: Flask | None = None) -> SocketRegistry:
    """The registry of ``app`` (default: the current app)."""
    return (app or current_app).extensions["socket_registry"]


def _limits(app: Flask) -> tuple[float, float]:
    cfg = app.config
    return float(cfg["SESSION_IDLE_MINUTES"]) * 60, float(cfg["SESSION_ABSOLUTE_HOURS"]) * 3600


def admit(app: Flask, sid: str, ref: SessionRef, now: float | None = None) -> Ended | None:
    """Check a new socket's session and the per-user cap; register it when both allow it.

    Returns why it is refused, or None. With the database down the session was already
    recalled from its last check (``services.accounts.degraded_auth``), so only the cap is applied.
    """
    now = time.time() if now is None else now
    idle, absolute = _limits(app)
    if not ref.login_id:
        return Ended("ended", "Your session has ended; log in again.")
    try:
        with database.session_scope(app) as session:
            why = login_sessions.ended(session, {sid: ref}, now, idle, absolute).get(sid)
    except SQLAlchemyError:
        log.warning("database unavailable: socket %s admitted without a session check", sid)
        why = login_sessions.expired(ref, now, absolute)
    if why is not None:
        return why
    reg = registry(app)
    if not reg.add(sid, ref):
        return Ended(TOO_MANY, f"At most {reg.per_user} live connections per user: close a tab "
                               "(or another browser) and reload.")
    return None


def end_socket(sid: str, why: Ended, code: str = UNAUTHORIZED) -> None:
    """Tell the socket why, then disconnect it (in any process, through the message queue)."""
    try:
        socketio.emit("error", {"code": code, "reason": why.reason, "message": why.message}, to=sid)
        socketio.server.disconnect(sid, namespace="/")
    except Exception:  # one broken socket must not keep the others open
        log.warning("could not end socket %s", sid, exc_info=True)


def end_after_connect(sid: str, why: Ended, code: str) -> None:
    """End a socket refused in its connect handler, once the handshake is through.

    Emitted from the handler itself, the ``error`` would precede the handshake's answer and the
    client would drop it; so wait (briefly) until the server counts the socket as connected.
    """
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        try:
            if socketio.server.manager.is_connected(sid, "/"):
                break
        except (KeyError, AttributeError):
            pass
        socketio.sleep(0.01)
    end_socket(sid, why, code)


def check(app: Flask, now: float | None = None) -> CheckStats:
    """End every socket of this process whose session has ended; one batch, every tick."""
    reg = registry(app)
    refs = reg.snapshot()
    stats = CheckStats(sockets=len(refs))
    if refs:
        began = time.perf_counter()
        now = time.time() if now is None else now
        idle, absolute = _limits(app)
        try:
            with database.session_scope(app) as session:
                gone = login_sessions.ended(session, refs, now, idle, absolute)
        except SQLAlchemyError:
            # Keep the sockets: no session can be verified, and none can change meanwhile.
            log.warning("database unavailable: socket sessions not checked this tick")
            stats.failed = True
            gone = {sid: why for sid, ref in refs.items()
                    if (why := login_sessions.expired(ref, now, absolute)) is not None}
        for sid, why in gone.items():
            reg.remove(sid)
            end_socket(sid, why)
        stats.ended = len(gone)
        stats.seconds = time.perf_counter() - began
    reg.last = stats
    _publish_count(app, reg)
    return stats


def _publish_count(app: Flask, reg: SocketRegistry) -> None:
    leader = app.extensions["live"].leader
    if leader is None:
        return
    try:
        leader.publish_sockets(reg.process, reg.count())
    except Exception:
        log.warning("could not publish this process's socket count to Redis", exc_info=True)


def counts(app: Flask | None = None) -> dict[str, Any]:
    """Sockets per process: this one always, the others' as they published them (Redis)."""
    app = app or current_app._get_current_object()
    reg = registry(app)
    here = {"process": reg.process, "connected": reg.count(), "users": reg.users()}
    processes = {reg.process: here}
    leader = app.extensions["live"].leader
    if leader is not None:
        try:
            for name, connected in leader.socket_counts().items():
                processes.setdefault(name, {"process": name, "connected": connected})
        except Exception:
            log.warning("could not read the socket counts of other processes", exc_info=True)
    listed = sorted(processes.values(), key=lambda p: p["process"])
    return {"this_process": here, "processes": listed,
            "total": sum(p["connected"] for p in listed), "per_user_limit": reg.per_user,
            "last_check": {"sockets": reg.last.sockets, "ended": reg.last.ended,
                           "ms": round(reg.last.seconds * 1000, 3), "failed": reg.last.failed}}


def health_check(app: Flask) -> dict[str, Any]:
    """The ``sockets`` entry of health: counts per process and the serving model; always healthy."""
    figures = counts(app)
    here = figures["this_process"]["connected"]
    message = f"{here} socket{'s' if here != 1 else ''} connected to this process"
    if len(figures["processes"]) > 1:
        message += f", {figures['total']} in all"
    return {"status": "healthy", "message": message,
            "async_mode": app.config.get("SOCKETIO_ASYNC_MODE"), **figures}
