"""Keeps the caches of several processes in step through Redis pub/sub.

A clear or invalidation in one process is published on
``<REDIS_NAMESPACE>:cache:invalidate``; every other process applies it. Redis being
down never breaks a request: a failed publish is logged and shown in health, the
listener reconnects with backoff, and after a reconnect it clears its own caches
because it may have missed messages while it was away.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from services.infra.redis_channel import RedisChannel

if TYPE_CHECKING:
    from services.infra.cache import CacheManager

log = logging.getLogger(__name__)


class RedisSync:
    """Publisher and background listener of cache invalidations for one manager."""

    def __init__(self, manager: "CacheManager", url: str, prefix: str):
        self.manager = manager
        self._channel = RedisChannel(url, f"{prefix}:cache:invalidate", self._apply,
                                     on_reconnect=self._reconnected, name="cache-sync")
        self.channel = self._channel.channel
        # Our own messages are already applied locally.
        self.origin = self._channel.origin
        self.subscribed = self._channel.subscribed

    def start(self) -> None:
        """Start the listener thread (once)."""
        self._channel.start()

    def stop(self) -> None:
        """Ask the listener to end and wait briefly for it."""
        self._channel.stop()

    def publish(self, op: str, namespaces: list[str]) -> bool:
        """Broadcast one operation; False (logged, visible in health) when Redis is down.

        Other processes clear their caches when their listener reconnects, so an operation
        lost while Redis is down leaves no stale answer behind.
        """
        return self._channel.publish({"op": op, "namespaces": namespaces})

    def status(self) -> dict[str, Any]:
        """Connection state for stats and health."""
        return self._channel.status()

    @property
    def connected(self) -> bool:
        """Whether the listener is subscribed right now."""
        return self._channel.connected

    @property
    def last_error(self) -> str | None:
        """The last failed publish or subscribe, if any."""
        return self._channel.last_error

    def _reconnected(self) -> None:
        # Messages published while we were away are lost: start from empty caches.
        log.info("cache sync: clearing local caches after a reconnect")
        self.manager.clear_local()

    def _apply(self, data: dict) -> None:
        self.manager.apply_remote(str(data["op"]), [str(n) for n in data["namespaces"]])
