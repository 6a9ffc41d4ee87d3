"""Logins as rows, and the one batched check of whether the sessions behind open sockets ended.

A login (one browser's cookie) gets a ``login_sessions`` row. HTTP requests move its
``last_seen_at`` forward, at most once per ``touch_every`` seconds so a busy page costs one
small UPDATE a minute, not one per request; the cookie carries the same time (``seen_at``),
so the idle timeout counts from one clock for pages and sockets alike.

A session ends when its user is removed or disabled, when the user's session token rotates
(logout, password change: every session of that user), when it reaches the absolute limit,
or when it was not used for the idle limit. ``ended`` answers that for many sockets with two
queries however many sockets there are (bounded by ``CHUNK`` ids per query).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.accounts.models import LoginSession, User

CHUNK = 500  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class SessionRef:
    """What a socket knows of the session it connected with (all of it from the handshake)."""

    user_id: int
    token: str
    login_id: str | None
    auth_at: float  # epoch seconds of the login


@dataclass(frozen=True)
class Ended:
    """Why a session ended: a short machine-readable ``reason`` and a sentence for people."""

    reason: str
    message: str


def touch_every(idle_seconds: float) -> float:
    """How stale ``last_seen_at`` may get: a tenth of the idle limit, between 1 s and 60 s."""
    return max(1.0, min(60.0, idle_seconds / 10))


def new_id() -> str:
    """A fresh random login id."""
    return secrets.token_urlsafe(24)


def start(session: Session, user: User, now: float, keep_seconds: float) -> str:
    """Record a login of ``user`` at ``now`` (epoch seconds); returns its id (kept in the cookie).

    The user's logins that began more than ``keep_seconds`` (the absolute limit) ago are
    deleted on the way, so the table stays about as small as the sessions that can still live.
    """
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id,
                                               LoginSession.started_at < as_datetime(now - keep_seconds)))
    login_id = new_id()
    moment = as_datetime(now)
    session.add(LoginSession(id=login_id, user_id=user.id, started_at=moment, last_seen_at=moment))
    session.flush()
    return login_id


def touch(session: Session, login_id: str, user_id: int, started_at: float, now: float) -> None:
    """Note that the login was used at ``now`` (epoch seconds); recreated if its row went missing."""
    moment = as_datetime(now)
    done = session.execute(update(LoginSession).where(LoginSession.id == login_id)
                           .values(last_seen_at=moment))
    if not done.rowcount:
        session.add(LoginSession(id=login_id, user_id=user_id, started_at=as_datetime(started_at),
                                 last_seen_at=moment))


def end_all(session: Session, user_id: int) -> None:
    """Forget every login of the user (their token rotated: logout, password change)."""
    session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


def _chunks(values: Iterable, size: int = CHUNK):
    items = list(values)
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _epoch(moment: datetime) -> float:
    return moment.astimezone(timezone.utc).timestamp()


def expired(ref: SessionRef, now: float, absolute_seconds: float) -> Ended | None:
    """The absolute limit alone: known from the handshake, no database needed."""
    if now - ref.auth_at > absolute_seconds:
        hours = absolute_seconds / 3600
        return Ended("expired", f"Your session reached its {hours:g}-hour limit; log in again.")
    return None


def ended(session: Session, refs: Mapping[str, SessionRef], now: float, idle_seconds: float,
          absolute_seconds: float) -> dict[str, Ended]:
    """Which of ``refs`` (any key, e.g. a socket id) belong to a session that has ended, and why.

    Two queries (users, logins), each over distinct ids only: 1,000 sockets of 50 logins
    read 50 login rows.
    """
    users: dict[int, tuple[str, bool, datetime]] = {}
    for ids in _chunks({r.user_id for r in refs.values()}):
        rows = session.execute(select(User.id, User.session_token, User.is_active,
                                      User.password_changed_at).where(User.id.in_(ids)))
        users.update({uid: (token, active, changed) for uid, token, active, changed in rows})
    seen: dict[str, datetime] = {}
    for ids in _chunks({r.login_id for r in refs.values() if r.login_id}):
        rows = session.execute(select(LoginSession.id, LoginSession.last_seen_at)
                               .where(LoginSession.id.in_(ids)))
        seen.update({login_id: last_seen for login_id, last_seen in rows})
    out: dict[str, Ended] = {}
    for key, ref in refs.items():
        why = _why(ref, users.get(ref.user_id), seen.get(ref.login_id), now, idle_seconds,
                   absolute_seconds)
        if why is not None:
            out[key] = why
    return out


def _why(ref: SessionRef, user: tuple[str, bool, datetime] | None, last_seen: datetime | None,
         now: float, idle_seconds: float, absolute_seconds: float) -> Ended | None:
    if user is None:
        return Ended("removed", "Your account was removed.")
    token, active, password_changed_at = user
    if not active:
        return Ended("disabled", "Your account was disabled.")
    if token != ref.token:
        if password_changed_at is not None and _epoch(password_changed_at) >= ref.auth_at:
            return Ended("password_changed", "Your password was changed; log in again.")
        return Ended("logged_out", "You logged out; log in again.")
    limit = expired(ref, now, absolute_seconds)
    if limit is not None:
        return limit
    if last_seen is None:
        return Ended("ended", "Your session has ended; log in again.")
    if now - _epoch(last_seen) > idle_seconds:
        minutes = idle_seconds / 60
        return Ended("idle", f"Your session ended after {minutes:g} minutes without activity; "
                             "log in again.")
    return None


def as_datetime(epoch: float) -> datetime:
    """An epoch time (the cookie's ``auth_at``) as an aware UTC datetime."""
    return datetime.fromtimestamp(epoch, timezone.utc)

