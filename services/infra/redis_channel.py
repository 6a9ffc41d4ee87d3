"""One Redis pub/sub channel shared by the panel's processes: JSON messages out, a listener in.

Used for what must reach every process but is not a Socket.IO emit: cache invalidations
(``services.infra.cache_sync``) and stored log entries for the live tail (``services.logs.relay``).
Redis being down never breaks the caller: a failed publish is logged, remembered for health
and followed by a few seconds without publishing (an unreachable Redis costs one timeout, not
one per call); the listener reconnects with backoff and tells its owner it may have missed
messages. A process never applies its own messages (each carries the sender's ``origin``).
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any, Callable

import redis

from database import utcnow

log = logging.getLogger(__name__)
PUBLISH_BACKOFF = 5.0  # seconds without publishing after a failed publish


class RedisChannel:
    """Publisher and background listener of one channel.

    ``on_message(data)`` gets every other process's message (a dict); ``on_reconnect()`` runs
    after the listener got back to Redis following an outage.
    """

    def __init__(self, url: str, channel: str, on_message: Callable[[dict], None],
                 on_reconnect: Callable[[], None] | None = None, name: str = "redis-channel"):
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self.client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._name = name
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
            self._thread = threading.Thread(target=self._listen, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Ask the listener to end (within a second) and, with ``wait``, wait briefly for it."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(timeout=3)

    def publish(self, data: dict[str, Any]) -> bool:
        """Send ``data`` to the other processes; False (logged, in ``status``) when Redis is down."""
        if time.monotonic() < self._skip_until:
            return False
        try:
            self.client.publish(self.channel, json.dumps({**data, "origin": self.origin}))
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
        log.warning("%s: Redis %s failed: %s", self._name, what, exc)

    def _listen(self) -> None:
        delay = 0.5
        first = True
        while not self._stop.is_set():
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                self.connected = True
                self.subscribed.set()
                if not first and self._on_reconnect is not None:
                    log.info("%s: reconnected to Redis", self._name)
                    self._on_reconnect()
                first = False
                delay = 0.5
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        self._deliver(message.get("data"))
            except redis.RedisError as exc:
                first = False
                self._failed("subscribe", exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
            finally:
                try:
                    pubsub.close()
                except redis.RedisError as exc:
                    log.debug("%s: closing pubsub failed: %s", self._name, exc)
        self.connected = False

    def _deliver(self, raw: Any) -> None:
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("origin") == self.origin:
                return
            self._on_message(data)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s: ignoring a malformed message %r: %s", self._name, raw, exc)
