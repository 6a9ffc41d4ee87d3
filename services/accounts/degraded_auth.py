"""Keeps signed-in people signed in while the database is down, so stale answers can reach them.

Every request loads its user from the database by session token. Without this,
a database outage would turn every page and JSON call into an error before the
cached (stale) answers could be served. Each process remembers the tokens it
verified in the last ``DEGRADED_LOGIN_SECONDS``; only while the database fails
is such a token accepted without a fresh check. A token that no longer matches
(logout, password change) is forgotten at once, and ``user.logged_out`` drops
the user's entries. Nothing can be changed meanwhile anyway: writes need the
database.
"""
from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from cachetools import TTLCache
from flask import Flask, current_app

from services.infra import bus as events

from services.infra import topics
from services.infra import LogThrottle

log = logging.getLogger(__name__)
# Every request of a signed-in person passes here during an outage: say it once a minute each.
_recall_log = LogThrottle(60.0)
_stores: "weakref.WeakSet[_Store]" = weakref.WeakSet()


class _Store:
    """Recently verified tokens of one app, with their users (detached, read-only use)."""

    def __init__(self, ttl: float, size: int):
        self.cache: TTLCache = TTLCache(size, ttl)
        self.lock = threading.Lock()

    def forget_user(self, user_id: Any) -> None:
        with self.lock:
            for token in [t for t, u in self.cache.items() if u.id == user_id]:
                del self.cache[token]


def init_app(app: Flask) -> None:
    """Create ``app``'s store of recently verified sessions (0 seconds turns it off)."""
    seconds = float(app.config.get("DEGRADED_LOGIN_SECONDS", 900))
    store = _Store(seconds, 4096) if seconds > 0 else None
    app.extensions["degraded_auth"] = store
    if store is not None:
        _stores.add(store)
    events.subscribe(topics.USER_LOGGED_OUT, _on_logged_out)


def _store() -> _Store | None:
    return current_app.extensions.get("degraded_auth")


def remember(token: str, user: Any) -> None:
    """Note the result of a successful database check of ``token`` (None forgets it)."""
    store = _store()
    if store is None or not token:
        return
    with store.lock:
        if user is None:
            store.cache.pop(token, None)
        else:
            store.cache[token] = user


def recall(token: str) -> Any:
    """The user ``token`` belonged to at its last check, if recent; for database outages only."""
    store = _store()
    if store is None or not token:
        return None
    with store.lock:
        user = store.cache.get(token)
    if user is not None:
        name = getattr(user, "username", "?")
        _recall_log.log(log, logging.WARNING, name,
                        "database unavailable: session of %s accepted from its last check", name)
    return user


def _on_logged_out(payload: Any) -> None:
    user_id = payload.get("user_id") if isinstance(payload, dict) else None
    if user_id is None:
        return
    for store in list(_stores):
        store.forget_user(user_id)
