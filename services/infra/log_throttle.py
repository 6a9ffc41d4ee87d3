"""Say a repeated complaint at most once per interval, and how many times it was held back.

While a dependency is down, the same failure happens on every request and every tick.
Logging each one buries the log (and the disk) in identical lines; logging none hides the
outage. A ``LogThrottle`` lets the first line through, holds back the repeats of the same
key for ``interval`` seconds, and names their number on the next line it lets through.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Hashable

MAX_KEYS = 1024  # keys are few (a subsystem, a user); the bound only guards against misuse


class LogThrottle:
    """At most one line per key per ``interval`` seconds."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[Hashable, float] = {}
        self._held: dict[Hashable, int] = {}

    def due(self, key: Hashable) -> int | None:
        """None when ``key`` spoke less than ``interval`` ago (this call is counted as held
        back); otherwise the number held back since its last line, and the clock restarts."""
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._held[key] = self._held.get(key, 0) + 1
                return None
            if len(self._last) >= MAX_KEYS and key not in self._last:
                self._last.clear()
                self._held.clear()
            self._last[key] = now
            return self._held.pop(key, 0)

    def log(self, logger: logging.Logger, level: int, key: Hashable, msg: str, *args,
            **kwargs) -> bool:
        """``logger.log(level, msg, *args)`` when ``key`` is due; True when it was logged."""
        held = self.due(key)
        if held is None:
            return False
        if held:
            msg = f"{msg} (and {held} more like it since the last such line)"
        logger.log(level, msg, *args, **kwargs)
        return True

    def reset(self, key: Hashable) -> int:
        """Forget ``key`` (its next line is logged at once); returns how many were held back."""
        with self._lock:
            self._last.pop(key, None)
            return self._held.pop(key, 0)
