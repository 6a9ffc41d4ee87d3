"""In-memory request timings: per minute, endpoint, method and label.

The request path only queues numbers here (no I/O, no lock); the scheduler folds them into
accumulators under a lock and takes everything with ``drain()`` to write ``request_stats`` rows.
A timer built with ``fold_raw`` takes raw items (``append``) and turns them into accumulators a
whole batch at a time when folding, so whatever can wait (labels, minutes, status codes,
histogram buckets) is worked out off the request and mostly by C-level builtins.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from services.monitor import histogram


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

    def add_many(self, values: list[float], errors: int, db_queries: int = 0, db_ms: float = 0.0) -> None:
        """Count several requests of one key at once (``values`` in ms, not empty)."""
        self.count += len(values)
        self.errors += errors
        self.total_ms += sum(values)
        top = max(values)
        if top > self.max_ms:
            self.max_ms = top
        self.db_queries += db_queries
        self.db_ms += db_ms
        histogram.merge(self.buckets, histogram.count_indexes(values))

    def merge(self, other: Any) -> None:
        """Add ``other`` (an Accumulator or a stored request_stats row) into this one."""
        self.count += other.count
        self.errors += other.errors
        self.total_ms += other.total_ms
        self.max_ms = max(self.max_ms, other.max_ms)
        self.db_queries += other.db_queries
        self.db_ms += other.db_ms
        histogram.merge(self.buckets, other.buckets or {})


Key = tuple[int, str, str, str]  # (epoch minute, endpoint, method, label)


class RequestTimer:
    """Per-key accumulators, fed without a lock on the request path.

    ``record`` only appends a tuple to a deque (atomic in CPython): under concurrent requests a
    shared lock there made threads queue behind each other and cost several times the work
    itself. The scheduler folds the queue into the accumulators under the lock at ``drain``; a
    queue grown past ``fold_at`` (a scheduler that fell behind) is folded by the request that
    notices, so memory stays bounded.
    """

    def __init__(self, fold_at: int = 50_000,
                 fold_raw: Callable[[list[tuple]], Iterable[tuple[Key, Accumulator]]] | None = None) -> None:
        self._lock = threading.Lock()
        self._data: dict[Key, Accumulator] = {}
        self._queue: deque[tuple] = deque()
        self._fold_at = fold_at
        # A batch of raw items -> (key, accumulator) pairs; None: items are keyed already.
        self._fold_raw = fold_raw

    def record(self, minute: int, endpoint: str, method: str, label: str, ms: float,
               error: bool, db_queries: int = 0, db_ms: float = 0.0) -> None:
        """Count one request of ``ms`` milliseconds that started in epoch minute ``minute``.

        Without ``fold_raw`` this is the lock-free request path; with it (the queue holds raw
        tuples) the item is added under the lock straight away.
        """
        item = (minute, endpoint, method, label, ms, error, db_queries, db_ms)
        if self._fold_raw is None:
            self.append(item)
            return
        with self._lock:
            self._add(item)

    def append(self, item: tuple) -> None:
        """Queue one item as given (a raw one when the timer has ``fold_raw``)."""
        queue = self._queue
        queue.append(item)
        if len(queue) > self._fold_at:
            self._fold()

    def _fold(self) -> None:
        with self._lock:
            queue = self._queue
            items = []
            for _ in range(len(queue)):
                try:
                    items.append(queue.popleft())
                except IndexError:
                    break
            if self._fold_raw is None:
                for item in items:
                    self._add(item)
                return
            for key, acc in self._fold_raw(items):
                mine = self._data.get(key)
                if mine is None:
                    self._data[key] = acc
                else:
                    mine.merge(acc)

    def _add(self, item: tuple) -> None:
        """Add one keyed item to its accumulator (the caller holds the lock)."""
        key = item[:4]
        acc = self._data.get(key)
        if acc is None:
            acc = self._data[key] = Accumulator()
        acc.add(item[4], item[5], item[6], item[7])

    def queued(self) -> int:
        """Requests waiting in the queue to be folded."""
        return len(self._queue)

    def drain(self) -> dict[Key, Accumulator]:
        """Take everything recorded so far, leaving the timer empty."""
        self._fold()
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
        """How many keys and unfolded requests wait for the next flush."""
        with self._lock:
            return len(self._data) + len(self._queue)
