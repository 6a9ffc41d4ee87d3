"""In-memory request timings: per minute, endpoint, method and label, under one lock.

The request path only adds numbers here (no I/O); the scheduler takes everything with
``drain()`` and writes it as ``request_stats`` rows.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from services import histogram


@dataclass
class Accumulator:
    """Counts of one (minute, endpoint, method, label) since the last drain."""

    count: int = 0
    errors: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    db_queries: int = 0
    db_ms: float = 0.0
    buckets: dict[int, int] = field(default_factory=dict)

    def add(self, ms: float, error: bool, db_queries: int = 0, db_ms: float = 0.0) -> None:
        """Count one request."""
        self.count += 1
        if error:
            self.errors += 1
        self.total_ms += ms
        if ms > self.max_ms:
            self.max_ms = ms
        self.db_queries += db_queries
        self.db_ms += db_ms
        index = histogram.bucket_index(ms)
        self.buckets[index] = self.buckets.get(index, 0) + 1

    def merge(self, other: "Accumulator") -> None:
        """Add ``other`` into this one (used to put back what could not be written)."""
        self.count += other.count
        self.errors += other.errors
        self.total_ms += other.total_ms
        self.max_ms = max(self.max_ms, other.max_ms)
        self.db_queries += other.db_queries
        self.db_ms += other.db_ms
        histogram.merge(self.buckets, other.buckets)


Key = tuple[int, str, str, str]  # (epoch minute, endpoint, method, label)


class RequestTimer:
    """Thread-safe per-key accumulators; cheap enough to call on every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[Key, Accumulator] = {}

    def record(self, minute: int, endpoint: str, method: str, label: str, ms: float,
               error: bool, db_queries: int = 0, db_ms: float = 0.0) -> None:
        """Count one request of ``ms`` milliseconds that started in epoch minute ``minute``."""
        key = (minute, endpoint, method, label)
        with self._lock:
            acc = self._data.get(key)
            if acc is None:
                acc = self._data[key] = Accumulator()
            acc.add(ms, error, db_queries, db_ms)

    def drain(self) -> dict[Key, Accumulator]:
        """Take everything recorded so far, leaving the timer empty."""
        with self._lock:
            data, self._data = self._data, {}
        return data

    def restore(self, data: dict[Key, Accumulator]) -> None:
        """Put back a drained batch that could not be stored, so nothing is lost."""
        with self._lock:
            for key, acc in data.items():
                mine = self._data.get(key)
                if mine is None:
                    self._data[key] = acc
                else:
                    mine.merge(acc)

    def pending(self) -> int:
        """How many keys wait for the next flush."""
        with self._lock:
            return len(self._data)
