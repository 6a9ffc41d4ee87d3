"""Stored log entries relayed between the panel's processes, for the live tail.

The live tail (``blueprints.sockets_logs``) matches entries against the filters of the
connections of its own process, and hears about entries on the in-process "log.stored" topic.
With several processes behind one Redis, an entry stored by process A must also reach a tail
open on process B: this module collects the entries this process stores and publishes them every
``RELAY_INTERVAL`` seconds as one message on ``<REDIS_NAMESPACE>:logs:stored``; entries from the
other processes are handed to the in-process "log.remote" topic. Without ``REDIS_URL`` nothing
is relayed (one process sees everything already). Redis being down loses relayed entries for
the tail only: they are stored, and the Logs page shows them on its next load.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask

from services.infra import bus as events

from services.infra import topics
from services.infra import RedisChannel

log = logging.getLogger(__name__)
RELAY_INTERVAL = 0.25
MAX_PENDING = 5000  # entries kept for the next message; a burst beyond it is not relayed


class LogRelay:
    """Collects this process's stored entries and relays them; delivers the others'."""

    def __init__(self, url: str, prefix: str, interval: float = RELAY_INTERVAL):
        self.channel = RedisChannel(url, f"{prefix}:logs:stored", self._received, name="log-relay")
        self._interval = interval
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def start(self) -> None:
        """Start the listener and the publishing thread (once)."""
        self.channel.start()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="log-relay-publish", daemon=True)
            self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Publish what is pending, then stop both threads (waiting for them with ``wait``)."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(timeout=3)
        self.flush()
        self.channel.stop(wait)

    def collect(self, entry: dict[str, Any]) -> None:
        """Queue one entry stored by this process for the next message."""
        with self._lock:
            if len(self._pending) >= MAX_PENDING:
                self.dropped += 1
                return
            self._pending.append(entry)

    def flush(self) -> int:
        """Publish the queued entries as one message; returns how many."""
        with self._lock:
            entries, self._pending = self._pending, []
        if entries:
            self.channel.publish({"entries": entries})
        return len(entries)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the relay thread must outlive any one failure
                log.exception("log relay: publishing failed")

    def _received(self, data: dict) -> None:
        for entry in data.get("entries") or []:
            if isinstance(entry, dict):
                events.publish(topics.LOG_REMOTE, entry)


_current: LogRelay | None = None
_current_lock = threading.Lock()


def _collect(entry: dict[str, Any]) -> None:
    relay = _current
    if relay is not None:
        relay.collect(entry)


def init_app(app: Flask) -> LogRelay | None:
    """Relay this app's stored entries when ``REDIS_URL`` is set (one relay per process)."""
    global _current
    url = app.config.get("REDIS_URL")
    relay = LogRelay(url, app.config["REDIS_NAMESPACE"]) if url else None
    with _current_lock:
        previous, _current = _current, relay
    if previous is not None:
        previous.stop(wait=False)  # an app built again in the same process (tests) replaces it
    if relay is None:
        return None
    relay.start()
    events.subscribe(topics.LOG_STORED, _collect)
    app.extensions["log_relay"] = relay
    return relay
