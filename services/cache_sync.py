"""Keeps the caches of several processes in step through Redis pub/sub.

A clear or invalidation in one process is published on
``<REDIS_NAMESPACE>:cache:invalidate``; every other process applies it. Redis being
down never breaks a request: a failed publish is logged and shown in health, the
listener reconnects with backoff, and after a reconnect it clears its own caches
because it may have missed messages while it was away.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import redis

from database import utcnow

if TYPE_CHECKING:
    from services.cache_manager import CacheManager

log = logging.getLogger(__name__)
PUBLISH_BACKOFF = 5.0  # seconds without publishing after a failed publish


class RedisSync:
    """Publisher and background listener of cache invalidations for one manager."""

    def __init__(self, manager: "CacheManager", url: str, prefix: str):
        self.manager = manager
        self.channel = f"{prefix}:cache:invalidate"
        self.origin = uuid.uuid4().hex  # our own messages are already applied locally
        self.client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = False
        self.last_error: str | None = None
        self.last_error_at = None
        self.subscribed = threading.Event()
        self._skip_until = 0.0

    def start(self) -> None:
        """Start the listener thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._listen, name="cache-sync", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Ask the listener to end and wait briefly for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)

    def publish(self, op: str, namespaces: list[str]) -> bool:
        """Broadcast one operation; False (logged, visible in health) when Redis is down.

        After a failure, publishing is skipped for ``PUBLISH_BACKOFF`` seconds so an
        unreachable Redis costs an ingest at most one timeout, not one per batch;
        other processes clear their caches when their listener reconnects anyway.
        """
        if time.monotonic() < self._skip_until:
            return False
        message = json.dumps({"origin": self.origin, "op": op, "namespaces": namespaces})
        try:
            self.client.publish(self.channel, message)
            return True
        except redis.RedisError as exc:
            self._skip_until = time.monotonic() + PUBLISH_BACKOFF
            self._failed("publish", exc)
            return False

    def status(self) -> dict[str, Any]:
        """Connection state for stats and health."""
        return {"channel": self.channel, "connected": self.connected,
                "last_error": self.last_error,
                "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None}

    def _failed(self, what: str, exc: Exception) -> None:
        self.connected = False
        self.last_error = f"{what}: {type(exc).__name__}: {exc}"
        self.last_error_at = utcnow()
        log.warning("cache sync: Redis %s failed: %s", what, exc)

    def _listen(self) -> None:
        delay = 0.5
        first = True
        while not self._stop.is_set():
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                self.connected = True
                self.subscribed.set()
                if not first:
                    # Messages published while we were away are lost: start from empty caches.
                    log.info("cache sync: reconnected to Redis; clearing local caches")
                    self.manager.clear_local()
                first = False
                delay = 0.5
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        self._apply(message.get("data"))
            except redis.RedisError as exc:
                first = False
                self._failed("subscribe", exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
            finally:
                try:
                    pubsub.close()
                except redis.RedisError as exc:
                    log.debug("cache sync: closing pubsub failed: %s", exc)
        self.connected = False

    def _apply(self, raw: Any) -> None:
        try:
            data = json.loads(raw)
            if data.get("origin") == self.origin:
                return
            self.manager.apply_remote(str(data["op"]), [str(n) for n in data["namespaces"]])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("cache sync: ignoring a malformed message %r: %s", raw, exc)
