"""At most one event per interval, coalesced: what the ``metrics`` socket event goes through.

An exporter pushing every 100 ms, or many services pushing at once, would otherwise send the
admins' sockets an event per batch and make every open Metrics page refetch each time. The
first batch after a quiet interval is announced at once; what arrives within the interval
after it is gathered (the union of the names) and announced once when the interval ends.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Iterable

from extensions import socketio


class Coalescer:
    """Call ``emit(sorted names)`` at most once per ``interval`` seconds, none lost."""

    def __init__(self, interval: float, emit: Callable[[list[str]], None],
                 clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self._emit = emit
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._scheduled = False
        self._last = float("-inf")
        self._generation = 0  # a held-back flush from before ``discard`` must not fire

    def add(self, names: Iterable[str]) -> None:
        """Announce ``names`` now, or with the next announcement if one went out recently."""
        with self._lock:
            self._pending.update(names)
            if self._scheduled:
                return
            wait = self._last + self.interval - self._clock()
            if wait > 0:
                self._scheduled = True
                socketio.start_background_task(self._later, wait, self._generation)
                return
        self.flush()

    def _later(self, wait: float, generation: int) -> None:
        socketio.sleep(wait)
        if generation == self._generation:
            self.flush()

    def discard(self) -> None:
        """Forget what is pending: a new app in this process must not announce what an earlier
        app stored (its held-back announcement would otherwise reach the new app's sockets)."""
        with self._lock:
            self._pending.clear()
            self._last = float("-inf")
            self._scheduled = False
            self._generation += 1

    def flush(self) -> None:
        """Announce what is pending now (nothing if nothing is)."""
        with self._lock:
            names, self._pending, self._scheduled = sorted(self._pending), set(), False
            if not names:
                return
            self._last = self._clock()
        self._emit(names)
