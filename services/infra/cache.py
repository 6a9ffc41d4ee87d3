"""Every in-process cache of the panel, in one place: named TTL namespaces.

Each namespace is a ``cachetools.TTLCache`` with its own TTL and size (config
``CACHE_TTL_<NS>`` / ``CACHE_SIZE_<NS>``), guarded by one lock, with hit, miss and
eviction counters. ``get_or_compute`` computes a missing entry once, however many
requests ask for it at the same moment (a lock per key). The last value of every
key is also kept past its expiry so a route can answer stale data while the
database is down (``get_stale``). Reads that are never served from the cache keep
their last answer beside the namespaces, for outages only (``keep_fallback`` /
``fallback``, bounded in bytes). Ingest makes namespaces stale: the
``ingest.committed`` event invalidates exactly those. With ``REDIS_URL`` set, clears
and invalidations are broadcast to every process (``services.infra.cache_sync``).

The module functions act on the current app's manager; outside an app context
they fall back to the most recently initialised one (a single-app process).
"""
from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Hashable

from cachetools import LRUCache, TTLCache
from flask import Flask, current_app, has_app_context

from database import utcnow
from services.infra import bus as events
from services.infra import topics
from services.infra.cache_sync import RedisSync

log = logging.getLogger(__name__)

# namespace -> (ttl seconds, max entries)
DEFAULTS: dict[str, tuple[float, int]] = {
    "live": (30.0, 64),
    "analytics": (300.0, 512),
    "activity": (120.0, 256),
    "health": (30.0, 16),
    # Aggregates over complete past hours (the activity heatmap): new rows land in the
    # current hour, so ingest does not invalidate them; the TTL bounds late arrivals.
    "history": (600.0, 64),
}
# The last answers of reads that always go to the database (logs, alerts, audit), kept only to
# stand in while it is down. Bounded in bytes of JSON, since one logs page can be large.
FALLBACK_BYTES = 8 * 1024 * 1024
_MISSING = object()
_managers: "weakref.WeakSet[CacheManager]" = weakref.WeakSet()
_last: "weakref.ref[CacheManager] | None" = None


class UnknownNamespace(KeyError):
    """A namespace that is not configured."""


class _CountingTTLCache(TTLCache):
    """A TTLCache that counts entries pushed out because it was full."""

    def __init__(self, maxsize: int, ttl: float, timer: Callable[[], float]):
        super().__init__(maxsize, ttl, timer=timer)
        self.evictions = 0

    def popitem(self):
        item = super().popitem()
        self.evictions += 1
        return item


@dataclass
class Namespace:
    """One cache namespace with its counters and its stale copies."""

    name: str
    ttl: float
    maxsize: int
    cache: _CountingTTLCache
    # The last value per key with the time it was computed; survives expiry and ingest.
    stale: LRUCache
    hits: int = 0
    misses: int = 0
    # Bumped on every invalidation so a computation that started before it is not stored.
    generation: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)


class CacheManager:
    """The caches of one app (one per process in production)."""

    def __init__(self, config: dict[str, Any], timer: Callable[[], float] | None = None):
        self.timer = timer or time.monotonic
        self.namespaces: dict[str, Namespace] = {}
        for name, (ttl, size) in DEFAULTS.items():
            ttl = float(config.get(f"CACHE_TTL_{name.upper()}", ttl))
            size = int(config.get(f"CACHE_SIZE_{name.upper()}", size))
            self.namespaces[name] = Namespace(
                name, ttl, size, _CountingTTLCache(size, ttl, self.timer), LRUCache(size))
        self.fallbacks: LRUCache = LRUCache(
            int(config.get("CACHE_FALLBACK_BYTES", FALLBACK_BYTES)), getsizeof=_answer_size)
        self._fallback_lock = threading.Lock()
        self._key_locks: dict[tuple[str, Hashable], list] = {}
        self._key_locks_guard = threading.Lock()
        self.sync = None  # services.infra.cache_sync.RedisSync when REDIS_URL is set

    # -- lookup ---------------------------------------------------------------------------
    def ns(self, name: str) -> Namespace:
        """The namespace called ``name``; UnknownNamespace otherwise."""
        try:
            return self.namespaces[name]
        except KeyError:
            raise UnknownNamespace(name) from None

    def _lookup(self, ns: Namespace, key: Hashable) -> Any:
        with ns.lock:
            value = ns.cache.get(key, _MISSING)
            if value is not _MISSING:
                ns.hits += 1
            return value

    def get(self, namespace: str, key: Hashable, default: Any = None) -> Any:
        """The fresh cached value of ``key`` or ``default`` (counts a hit or a miss)."""
        ns = self.ns(namespace)
        value = self._lookup(ns, key)
        if value is _MISSING:
            with ns.lock:
                ns.misses += 1
            return default
        return value

    def set(self, namespace: str, key: Hashable, value: Any) -> None:
        """Store ``value`` (and keep it as the stale copy of ``key``)."""
        ns = self.ns(namespace)
        with ns.lock:
            self._store(ns, key, value)

    def _store(self, ns: Namespace, key: Hashable, value: Any) -> None:
        ns.cache[key] = value
        ns.stale[key] = (value, utcnow())

    def get_stale(self, namespace: str, key: Hashable) -> tuple[Any, datetime] | None:
        """The last value computed for ``key`` and when, even past its expiry; None if never."""
        ns = self.ns(namespace)
        with ns.lock:
            return ns.stale.get(key)

    def put_stale(self, namespace: str, key: Hashable, value: Any, as_of: datetime) -> None:
        """Keep ``value`` (computed at ``as_of``) as the stale copy of ``key`` only."""
        ns = self.ns(namespace)
        with ns.lock:
            ns.stale[key] = (value, as_of)

    def keep_fallback(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` as the answer for ``key`` while the database is down (never fresh)."""
        with self._fallback_lock:
            try:
                self.fallbacks[key] = (value, utcnow())
            except ValueError:  # larger than the whole budget: keep none rather than evict all
                self.fallbacks.pop(key, None)

    def fallback(self, key: Hashable) -> tuple[Any, datetime] | None:
        """The last answer kept for ``key`` and when it was read, or None."""
        with self._fallback_lock:
            return self.fallbacks.get(key)

    def get_or_compute(self, namespace: str, key: Hashable, fn: Callable[[], Any]) -> Any:
        """The cached value of ``key``, or ``fn()`` computed once and stored.

        Concurrent callers of the same missing key wait for the one computation
        instead of each hitting the database. An exception from ``fn`` reaches the
        caller and nothing is stored.
        """
        ns = self.ns(namespace)
        value = self._lookup(ns, key)
        if value is not _MISSING:
            return value
        lock = self._acquire_key_lock(namespace, key)
        try:
            with lock:
                value = self._lookup(ns, key)
                if value is not _MISSING:
                    return value
                with ns.lock:
                    ns.misses += 1
                    generation = ns.generation
                value = fn()
                with ns.lock:
                    # Data changed while we computed: answer, but do not keep an outdated value.
                    if ns.generation == generation:
                        self._store(ns, key, value)
                return value
        finally:
            self._release_key_lock(namespace, key)

    def _acquire_key_lock(self, namespace: str, key: Hashable) -> threading.Lock:
        with self._key_locks_guard:
            entry = self._key_locks.setdefault((namespace, key), [threading.Lock(), 0])
            entry[1] += 1
            return entry[0]

    def _release_key_lock(self, namespace: str, key: Hashable) -> None:
        with self._key_locks_guard:
            entry = self._key_locks[(namespace, key)]
            entry[1] -= 1
            if entry[1] == 0:  # last user: drop it so the dict does not grow forever
                del self._key_locks[(namespace, key)]

    # -- invalidation -----------------------------------------------------------------
    def clear_local(self, namespace: str | None = None, *, drop_stale: bool = True) -> int:
        """Empty one namespace (or all) in this process; returns how many entries were dropped."""
        names = [self.ns(namespace).name] if namespace else list(self.namespaces)
        cleared = 0
        for name in names:
            ns = self.namespaces[name]
            with ns.lock:
                ns.cache.expire()
                cleared += len(ns.cache)
                ns.cache.clear()
                ns.generation += 1
                if drop_stale:
                    ns.stale.clear()
        return cleared

    def clear(self, namespace: str | None = None) -> int:
        """Empty one namespace (or every one) here and, with Redis, in every process."""
        cleared = self.clear_local(namespace)
        if self.sync is not None:
            self.sync.publish("clear", [namespace] if namespace else list(self.namespaces))
        return cleared

    def invalidate(self, *namespaces: str) -> None:
        """Mark namespaces out of date (fresh entries dropped, stale copies kept), everywhere."""
        for name in namespaces:
            self.ns(name)  # refuse unknown names before touching anything
        for name in namespaces:
            self.clear_local(name, drop_stale=False)
        if self.sync is not None and namespaces:
            self.sync.publish("invalidate", list(namespaces))

    def apply_remote(self, op: str, namespaces: list[str]) -> None:
        """Apply a clear/invalidate broadcast by another process."""
        for name in namespaces:
            if name in self.namespaces:
                self.clear_local(name, drop_stale=(op == "clear"))
            else:
                log.warning("cache: ignoring a remote %s of unknown namespace %r", op, name)

    # -- reporting --------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Counters per namespace, their totals, and which backend keeps processes in step."""
        out: dict[str, Any] = {}
        totals = {"hits": 0, "misses": 0, "size": 0, "maxsize": 0, "evictions": 0}
        for name, ns in self.namespaces.items():
            with ns.lock:
                ns.cache.expire()
                row = {"hits": ns.hits, "misses": ns.misses, "size": len(ns.cache),
                       "maxsize": ns.maxsize, "ttl": ns.ttl, "evictions": ns.cache.evictions,
                       "stale_entries": len(ns.stale)}
            row["hit_ratio"] = _ratio(row["hits"], row["misses"])
            out[name] = row
            for k in totals:
                totals[k] += row[k]
        totals["hit_ratio"] = _ratio(totals["hits"], totals["misses"])
        with self._fallback_lock:
            fallback = {"entries": len(self.fallbacks), "bytes": self.fallbacks.currsize,
                        "max_bytes": self.fallbacks.maxsize}
        result = {"namespaces": out, "totals": totals, "fallback": fallback,
                  "backend": "memory+redis" if self.sync is not None else "memory"}
        if self.sync is not None:
            result["redis"] = self.sync.status()
        return result

    def close(self) -> None:
        """Stop the Redis listener, if any."""
        if self.sync is not None:
            self.sync.stop()


def _answer_size(item: tuple[Any, datetime]) -> int:
    return len(json.dumps(item[0], default=str, separators=(",", ":")))


def _ratio(hits: int, misses: int) -> float | None:
    total = hits + misses
    return round(hits / total, 4) if total else None


# -- the app binding ------------------------------------------------------------------------
def init_app(app: Flask) -> CacheManager:
    """Create ``app``'s caches (a fake clock may be given as config ``CACHE_TIMER``)."""
    global _last
    manager = CacheManager(app.config, timer=app.config.get("CACHE_TIMER"))
    if app.config.get("REDIS_URL"):
        manager.sync = RedisSync(manager, app.config["REDIS_URL"], app.config["REDIS_NAMESPACE"])
        manager.sync.start()
    app.extensions["cache_manager"] = manager
    _managers.add(manager)
    _last = weakref.ref(manager)
    events.subscribe(topics.INGEST_COMMITTED, _on_ingest_committed)
    return manager


def manager(app: Flask | None = None) -> CacheManager:
    """The manager of ``app``, the current app, or (outside any app) the latest one."""
    if app is not None:
        return app.extensions["cache_manager"]
    if has_app_context():
        return current_app.extensions["cache_manager"]
    latest = _last() if _last else None
    if latest is None:
        raise RuntimeError("cache_manager.init_app was never called")
    return latest


def get_or_compute(namespace: str, key: Hashable, fn: Callable[[], Any]) -> Any:
    """See ``CacheManager.get_or_compute``."""
    return manager().get_or_compute(namespace, key, fn)


def get(namespace: str, key: Hashable, default: Any = None) -> Any:
    """See ``CacheManager.get``."""
    return manager().get(namespace, key, default)


def set(namespace: str, key: Hashable, value: Any) -> None:  # noqa: A001 - the public API name
    """See ``CacheManager.set``."""
    manager().set(namespace, key, value)


def get_stale(namespace: str, key: Hashable) -> tuple[Any, datetime] | None:
    """See ``CacheManager.get_stale``."""
    return manager().get_stale(namespace, key)


def invalidate(*namespaces: str) -> None:
    """See ``CacheManager.invalidate``."""
    manager().invalidate(*namespaces)


def clear(namespace: str | None = None) -> int:
    """See ``CacheManager.clear``."""
    return manager().clear(namespace)


def stats() -> dict[str, Any]:
    """See ``CacheManager.stats``."""
    return manager().stats()


def namespaces() -> list[str]:
    """The configured namespace names."""
    return list(manager().namespaces)


def stale_namespaces(payload: dict[str, Any]) -> list[str]:
    """Which namespaces an ingest of ``payload`` counts makes out of date.

    Transactions change revenue and the live snapshot; activities change the
    activity views and the live active-user count; logs change none of these.
    """
    stale: list[str] = []
    if payload.get("transactions"):
        stale += ["analytics", "live"]
    if payload.get("activities"):
        stale += ["activity"] + ([] if "live" in stale else ["live"])
    return stale


def _on_ingest_committed(payload: Any) -> None:
    """``ingest.committed`` handler: invalidate what the ingested rows made stale."""
    names = stale_namespaces(payload if isinstance(payload, dict) else {})
    if not names:
        return
    # In an app (request, CLI, scheduler): that app's caches; bare threads: every app here.
    targets = [manager()] if has_app_context() else list(_managers)
    for target in targets:
        target.invalidate(*names)
