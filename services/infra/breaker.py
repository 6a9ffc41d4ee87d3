"""A circuit breaker (pybreaker) around the database reads behind the JSON routes.

After ``DB_BREAKER_FAIL_MAX`` database errors in a row the breaker opens: reads
fail at once for ``DB_BREAKER_RESET_TIMEOUT`` seconds instead of each waiting on a
dead database; then one trial read decides whether it closes again. ``cached_read``
is what routes use: cache first, then the breaker, and when the database cannot
answer, the last value known (marked stale) or ``Unavailable`` (a 503). Reads that
must always be fresh (logs, alerts, the audit trail) use ``fresh_read``: always the
database, with the last answer kept only to stand in during an outage.

Only failures of the database itself count as an outage (``is_outage``): it cannot
be reached, dropped the connection, or the pool timed out. An error caused by what
was asked (a value out of range, a constraint) is not one, so it neither opens the
breaker nor turns into a stale answer or a 503 that would make a client retry.
While the database is down, the same failure repeats on every request and tick:
``note_outage`` logs it once per ``OUTAGE_LOG_INTERVAL`` seconds, without a traceback.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Hashable

import pybreaker
from flask import Flask, current_app
from sqlalchemy import exc as sa_exc

from services.infra import cache as cache_manager
from services.infra.log_throttle import LogThrottle

log = logging.getLogger(__name__)
# What clients are told to wait before asking again (the Retry-After of every 503 for an outage).
RETRY_AFTER_SECONDS = 5
OUTAGE_LOG_INTERVAL = 60.0
_outage_log = LogThrottle(OUTAGE_LOG_INTERVAL)


class Unavailable(RuntimeError):
    """The database cannot answer and nothing cached can stand in (answered 503)."""


# Errors that mean "the database cannot be used right now", whatever was asked of it.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
    sa_exc.TimeoutError, pybreaker.CircuitBreakerError, Unavailable)


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` says the database is unreachable or gone, not that a query was wrong."""
    if isinstance(exc, OUTAGE_ERRORS):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def note_outage(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log that the database failed ``what``: one line, at most once a minute per process."""
    _outage_log.log(logger, logging.WARNING, "database", "database unavailable (%s) while %s",
                    type(exc).__name__, what)


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log that ``what`` failed: an outage as ``note_outage`` does, anything else with its traceback."""
    if is_outage(exc):
        note_outage(logger, what, exc)
    else:
        logger.error("%s failed", what, exc_info=exc)


class _LogListener(pybreaker.CircuitBreakerListener):
    """Logs the breaker opening and closing, so an outage is visible in the logs too.

    Each failed trial in between (half-open, then open again) is not worth a line each.
    """

    def state_change(self, cb, old_state, new_state):
        old = old_state.name if old_state else None
        level = logging.DEBUG if "half-open" in (old, new_state.name) and \
            new_state.name != "closed" else logging.WARNING
        log.log(level, "database circuit breaker %s -> %s", old, new_state.name)
        if new_state.name == "closed":
            _outage_log.reset("database")  # the next outage is reported at once


class _Breaker(pybreaker.CircuitBreaker):
    """pybreaker's breaker without its lock around the guarded call.

    pybreaker holds one lock for the whole call, so every guarded read of the process
    would run one at a time: a slow query, or a connection attempt waiting out its
    timeout while the database is down, would hold up every other read behind it. The
    state changes (open, half-open, close) still take that lock themselves; the cost is
    that several trial reads may pass while the breaker is half-open.
    """

    def call(self, func, *args, **kwargs):
        return self.state.call(func, *args, **kwargs)


def _not_an_outage(exc: BaseException) -> bool:
    # Only the database failing counts towards opening: neither a bug in our own code nor
    # a query the database refused for what it asked.
    return not is_outage(exc)


def init_app(app: Flask) -> pybreaker.CircuitBreaker:
    """Create ``app``'s database breaker from config."""
    breaker = _Breaker(
        fail_max=int(app.config.get("DB_BREAKER_FAIL_MAX", 3)),
        reset_timeout=float(app.config.get("DB_BREAKER_RESET_TIMEOUT", 15.0)),
        exclude=[_not_an_outage],
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
    except Exception as exc:
        if not is_outage(exc):
            raise
        return _stale_or_unavailable(exc, manager.get_stale(namespace, key), manager.get_stale(
            namespace, stale_key) if stale_key is not None else None)
    if stale_key is not None:
        found = manager.get_stale(namespace, key)
        if found is not None:
            manager.put_stale(namespace, stale_key, *found)
    return {**value, "stale": False}


def fresh_read(key: Hashable, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``fn()`` through the breaker, every time; the last answer stands in during an outage.

    For reads whose answer must never lag (a log line just written, an alert just
    acknowledged): nothing is served from the cache while the database answers. The
    answer is kept as the cache's fallback for ``key`` and served with ``stale: true``
    and ``as_of`` when the database fails; without one, ``Unavailable`` is raised (503).
    """
    manager = cache_manager.manager()
    try:
        value = call(fn)
    except Exception as exc:
        if not is_outage(exc):
            raise
        return _stale_or_unavailable(exc, manager.fallback(key))
    manager.keep_fallback(key, value)
    return {**value, "stale": False}


def _stale_or_unavailable(exc: BaseException, *found: tuple[Any, datetime] | None) -> dict[str, Any]:
    """The first answer found, marked stale; ``Unavailable`` when there is none."""
    note_outage(log, "reading; answering with the last answers (stale) or 503", exc)
    for item in found:
        if item is not None:
            value, as_of = item
            return {**value, "stale": True, "as_of": as_of.isoformat()}
    raise Unavailable("The database is unavailable and there is no earlier answer to show; "
                      "try again shortly.") from exc


def or_last_cached(namespace: str, key: Hashable, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``fn()``, which caches its own answer under ``namespace``/``key`` (the live snapshot);
    in an outage that key's last value, marked stale, or ``Unavailable``."""
    try:
        return fn()
    except Exception as exc:
        if not is_outage(exc):
            raise
        return _stale_or_unavailable(exc, cache_manager.manager().get_stale(namespace, key))
