"""Fixed log-spaced latency buckets: mergeable across minutes and processes, like counts.

Bucket 0 holds everything up to ``MIN_MS``; bucket ``i >= 1`` holds (MIN_MS·G^(i-1), MIN_MS·G^i].
A percentile is reported as the harmonic middle of its bucket, so its relative error is at most
(G-1)/(G+1) ≈ 9.1% for G = 1.2, whatever the number of requests or processes merged.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from functools import partial
from typing import Iterable, Mapping

MIN_MS = 0.01
GROWTH = 1.2
# 0.01 ms · 1.2^110 ≈ 5 hours: no realistic request falls past the last bucket.
MAX_INDEX = 110
# Upper bound (ms) of each bucket; the last one is open-ended in practice.
BUCKET_BOUNDS_MS: tuple[float, ...] = tuple(MIN_MS * GROWTH ** i for i in range(MAX_INDEX + 1))
MAX_RELATIVE_ERROR = (GROWTH - 1) / (GROWTH + 1)


# The first bound >= ms: bucket i holds (BOUNDS[i-1], BOUNDS[i]], bucket 0 everything <= MIN_MS.
_index = partial(bisect_left, BUCKET_BOUNDS_MS)


def bucket_index(ms: float) -> int:
    """The bucket a latency of ``ms`` milliseconds falls in."""
    index = _index(ms)
    return index if index < MAX_INDEX else MAX_INDEX


def count_indexes(values: Iterable[float]) -> dict[int, int]:
    """How many of ``values`` (ms) fall in each bucket; a bisect per value, in C."""
    counts = Counter(map(_index, values))
    over = sum(n for index, n in counts.items() if index > MAX_INDEX)
    if over:
        for index in [i for i in counts if i > MAX_INDEX]:
            del counts[index]
        counts[MAX_INDEX] += over
    return dict(counts)


def bucket_value(index: int) -> float:
    """The value reported for bucket ``index``: equal relative distance to both of its bounds."""
    if index <= 0:
        return MIN_MS
    lower, upper = BUCKET_BOUNDS_MS[index - 1], BUCKET_BOUNDS_MS[index]
    return 2 * lower * upper / (lower + upper)


def merge(into: dict[int, int], other: Mapping) -> dict[int, int]:
    """Add ``other``'s counts (keys may be str, as stored in JSON) into ``into``; returns it."""
    for key, count in other.items():
        index = int(key)
        into[index] = into.get(index, 0) + int(count)
    return into


def merge_all(histograms: Iterable[Mapping]) -> dict[int, int]:
    """One histogram holding the counts of all of ``histograms``."""
    merged: dict[int, int] = {}
    for hist in histograms:
        if hist:
            merge(merged, hist)
    return merged


def percentile(hist: Mapping, q: float, max_ms: float | None = None) -> float | None:
    """The ``q`` (0..1) nearest-rank percentile in ms, or None when ``hist`` is empty.

    ``max_ms`` (the exact largest value seen) caps the estimate: the true value can never exceed it.
    """
    items = sorted((int(k), int(v)) for k, v in hist.items() if int(v) > 0)
    total = sum(v for _, v in items)
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index, count in items:
        seen += count
        if seen >= rank:
            value = bucket_value(index)
            return min(value, max_ms) if max_ms else value
    return None  # unreachable: rank <= total


def percentiles(hist: Mapping, qs: Iterable[float] = (0.5, 0.95, 0.99),
                max_ms: float | None = None) -> list[float | None]:
    """Several percentiles of one histogram."""
    return [percentile(hist, q, max_ms) for q in qs]


def to_json(hist: Mapping[int, int]) -> dict[str, int]:
    """The sparse form stored in ``request_stats.buckets`` (JSON object keys are strings)."""
    return {str(k): int(v) for k, v in hist.items() if v}
