"""Widget results shared by every viewer: each distinct query is computed once per tick.

A result is kept for one live tick (``LIVE_UPDATE_INTERVAL``): the key is the query's canonical
text (``model.query_key``) and the tick it belongs to, the wall-clock time divided by the
interval, so every process and every viewer that asks during the same tick reads the same
answer. Concurrent askers of a missing key wait for the one computation (a lock per key).
``stats`` counts computations and reuses, which the tests and the benchmark read.

The cache also remembers which dashboards were read lately (``note_viewed``: a dashboard's
saved queries, by dashboard): ``warm`` computes those at each tick's edge, off the request path.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

MAX_ENTRIES = 4096
MAX_VIEWED = 1000  # dashboards remembered for warming (the oldest read is forgotten first)


@dataclass
class WidgetCache:
    """One app's widget results (``app.extensions['dashboards_cache']``)."""

    interval: float
    clock: Callable[[], float] = time.time
    entries: dict[tuple[str, int], Any] = field(default_factory=dict)
    locks: dict[tuple[str, int], threading.Lock] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    computations: int = 0
    reuses: int = 0
    parts: int = 0
    viewed: dict[str, tuple[float, list]] = field(default_factory=dict)

    def tick(self) -> int:
        """The number of the current tick."""
        return int(self.clock() // self.tick_seconds())

    def tick_seconds(self) -> float:
        """How long a tick lasts: tick ``n`` is ``[n, n + 1) × tick_seconds()`` since 1970."""
        return max(self.interval, 0.05)

    def stamp(self) -> dict[str, Any]:
        """``tick`` and ``tick_seconds`` of now, for an answer whose results are about to be read
        (taken before computing: an edge crossed meanwhile costs a page one more fetch, never a
        skipped one)."""
        return {"tick": self.tick(), "tick_seconds": self.tick_seconds()}

    def part(self, key: str, compute: Callable[[], Any]) -> Any:
        """A piece several queries read (the customer figures of a range): shared the same way,
        counted apart from the widget queries."""
        return self.get_or_compute(f"part:{key}", compute, counted=False)

    def get_or_compute(self, key: str, compute: Callable[[], Any], counted: bool = True) -> Any:
        """The result of ``key`` in this tick, computing it only if no one has yet."""
        slot = (key, self.tick())
        with self.lock:
            if slot in self.entries:
                self.reuses += 1
                return self.entries[slot]
            key_lock = self.locks.setdefault(slot, threading.Lock())
        with key_lock:
            with self.lock:
                if slot in self.entries:
                    self.reuses += 1
                    return self.entries[slot]
            value = compute()
            with self.lock:
                if counted:
                    self.computations += 1
                else:
                    self.parts += 1
                self._drop_old(slot[1])
                self.entries[slot] = value
                self.locks.pop(slot, None)
            return value

    def _drop_old(self, current: int) -> None:
        # Results of earlier ticks are never read again.
        stale = [k for k in self.entries if k[1] < current]
        for k in stale:
            del self.entries[k]
        while len(self.entries) >= MAX_ENTRIES:
            del self.entries[next(iter(self.entries))]

    def note_viewed(self, key: str, queries: list) -> None:
        """``key`` (a dashboard) was read now with these normalized saved queries."""
        with self.lock:
            self.viewed.pop(key, None)  # re-inserted last: the dict stays oldest-first
            self.viewed[key] = (self.clock(), queries)
            while len(self.viewed) > MAX_VIEWED:
                del self.viewed[next(iter(self.viewed))]

    def recently_viewed(self, window: float) -> list[list]:
        """The queries of every dashboard read within the last ``window`` seconds (older ones
        are forgotten)."""
        since = self.clock() - window
        with self.lock:
            for key in [k for k, (at, _) in self.viewed.items() if at < since]:
                del self.viewed[key]
            return [queries for _, queries in self.viewed.values()]

    def stats(self) -> dict[str, int]:
        """Computations and reuses since start, and the results held now."""
        with self.lock:
            return {"computations": self.computations, "reuses": self.reuses, "parts": self.parts,
                    "entries": len(self.entries), "tick": self.tick()}
