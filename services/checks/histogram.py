"""Response-time histograms of the rollups, stored compactly, and the percentiles read from them.

Fixed bucket bounds (ms, roughly ×1.5 apart) so any two histograms add up bucket by bucket. A
histogram is kept as text of its non-empty buckets only, ``"index:count,index:count"``: a
monitor's checks usually land in two or three buckets, so a rollup row carries ~10 bytes, not
thirty counters. A percentile is interpolated inside its bucket, so it is exact to the bucket's
width (about ±25 %), which is what p50/p95 on a status board need.
"""
from __future__ import annotations

from bisect import bisect_left
from typing import Iterable

# Upper bounds (ms, inclusive); a last, open bucket holds anything slower.
BOUNDS = (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500,
          2000, 3000, 5000, 7000, 10000, 15000, 20000, 30000, 60000)


def bucket_of(latency_ms: float) -> int:
    """The index of the bucket holding ``latency_ms``."""
    return bisect_left(BOUNDS, latency_ms)


def decode(text: str | None) -> dict[int, int]:
    """``"3:5,7:1"`` -> ``{3: 5, 7: 1}`` (an empty or missing text is an empty histogram)."""
    out: dict[int, int] = {}
    for part in (text or "").split(","):
        if part:
            index, count = part.split(":")
            out[int(index)] = out.get(int(index), 0) + int(count)
    return out


def encode(counts: dict[int, int]) -> str | None:
    """The compact text of ``counts`` (None when empty)."""
    parts = [f"{i}:{c}" for i, c in sorted(counts.items()) if c]
    return ",".join(parts) or None


def add(text: str | None, latency_ms: float | None, times: int = 1) -> str | None:
    """``text`` with one more response time (None adds nothing: no time was measured)."""
    if latency_ms is None:
        return text
    counts = decode(text)
    index = bucket_of(latency_ms)
    counts[index] = counts.get(index, 0) + times
    return encode(counts)


def merge(texts: Iterable[str | None]) -> dict[int, int]:
    """The sum of several histograms."""
    total: dict[int, int] = {}
    for text in texts:
        for index, count in decode(text).items():
            total[index] = total.get(index, 0) + count
    return total


def quantile(counts: dict[int, int], q: float, max_ms: float | None = None) -> float | None:
    """The ``q`` quantile (0..1) of a histogram, interpolated in its bucket; None when empty.

    ``max_ms`` (the slowest time seen) closes the open last bucket and caps the estimate.
    """
    total = sum(counts.values())
    if not total:
        return None
    rank, seen = q * total, 0
    for index in sorted(counts):
        count = counts[index]
        if seen + count >= rank:
            lo = BOUNDS[index - 1] if index > 0 else 0.0
            hi = BOUNDS[index] if index < len(BOUNDS) else (max_ms or lo)
            value = lo + (hi - lo) * ((rank - seen) / count)
            return round(min(value, max_ms) if max_ms is not None else value, 2)
        seen += count
    return max_ms
