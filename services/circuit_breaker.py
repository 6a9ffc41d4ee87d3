"""A circuit breaker (pybreaker) around the database reads behind the JSON routes.

After ``DB_BREAKER_FAIL_MAX`` database errors in a row the breaker opens: reads
fail at once for ``DB_BREAKER_RESET_TIMEOUT`` seconds instead of each waiting on a
dead database; then one trial read decides whether it closes again. ``cached_read``
is what routes use: cache first, then the breaker, and when the database cannot
answer, the last value known (marked stale) or ``Unavailable`` (a 503).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Hashable

import pybreaker
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from services import cache_manager

log = logging.getLogger(__name__)


class Unavailable(RuntimeError):
    """The database cannot answer and nothing cached can stand in (answered 503)."""


class _LogListener(pybreaker.CircuitBreakerListener):
    """Logs every state change so an outage is visible in the logs, not only in health."""

    def state_change(self, cb, old_state, new_state):
        old = old_state.name if old_state else None
        log.warning("database circuit breaker %s -> %s", old, new_state.name)


def _not_a_database_error(exc: BaseException) -> bool:
    # Only database failures count towards opening; a bug in our own code must not.
    return not isinstance(exc, SQLAlchemyError)


def init_app(app: Flask) -> pybreaker.CircuitBreaker:
    """Create ``app``'s database breaker from config."""
    breaker = pybreaker.CircuitBreaker(
        fail_max=int(app.config.get("DB_BREAKER_FAIL_MAX", 3)),
        reset_timeout=float(app.config.get("DB_BREAKER_RESET_TIMEOUT", 15.0)),
        exclude=[_not_a_database_error],
        listeners=[_LogListener()],
        name="database",
    )
    app.extensions["db_breaker"] = breaker
    return breaker


def breaker(app: Flask | None = None) -> pybreaker.CircuitBreaker:
    """The database breaker of ``app`` (default: the current app), created on first use."""
    app = app or current_app._get_current_object()
    found = app.extensions.get("db_breaker")
    return found if found is not None else init_app(app)


def call(fn: Callable[[], Any]) -> Any:
    """Run the database read ``fn`` through the breaker (raises CircuitBreakerError when open)."""
    return breaker().call(fn)


def state(app: Flask | None = None) -> dict[str, Any]:
    """The breaker's state for health: ``closed``, ``open`` or ``half-open`` and its counters."""
    cb = breaker(app)
    opened = cb._state_storage.opened_at  # pybreaker keeps it there; no public getter
    return {"state": cb.current_state, "fail_counter": cb.fail_counter, "fail_max": cb.fail_max,
            "reset_timeout": cb.reset_timeout,
            "opened_at": opened.isoformat() if isinstance(opened, datetime) and
            cb.current_state != "closed" else None}


def cached_read(namespace: str, key: Hashable, fn: Callable[[], dict[str, Any]],
                stale_key: Hashable | None = None) -> dict[str, Any]:
    """A JSON-ready dict from the cache, else from ``fn`` through the breaker.

    When the database fails or the breaker is open, the last value computed for
    ``key`` is answered with ``stale: true`` and ``as_of``; without one,
    ``Unavailable`` is raised. Fresh answers carry ``stale: false``. Routes whose
    key moves with the clock ("the last 30 minutes") pass a ``stale_key`` without
    the time, so an outage longer than one key's life still finds the latest answer.
    """
    manager = cache_manager.manager()
    try:
        value = manager.get_or_compute(namespace, key, lambda: call(fn))
    except (pybreaker.CircuitBreakerError, SQLAlchemyError) as exc:
        log.warning("serving %s/%r degraded: %s", namespace, key, type(exc).__name__)
        found = manager.get_stale(namespace, key)
        if found is None and stale_key is not None:
            found = manager.get_stale(namespace, stale_key)
        if found is None:
            raise Unavailable("The database is unavailable and there is no cached answer yet; "
                              "try again shortly.") from exc
        value, as_of = found
        return {**value, "stale": True, "as_of": as_of.isoformat()}
    if stale_key is not None:
        found = manager.get_stale(namespace, key)
        if found is not None:
            manager.put_stale(namespace, stale_key, *found)
    return {**value, "stale": False}
