"""Request series for ``/metrics``: exact ``le`` counts, and series that exist at zero first.

**Bounds.** The request timer sorts every latency into fixed log-spaced buckets
(``services.monitor.histogram``: bucket ``i`` holds (B[i-1], B[i]], B[i] = 0.01 ms · 1.2^i). The exposed
``le`` bounds are a subset of those same bounds: every one from ``LOWEST_LE_MS`` (0.107 ms) to
``HIGHEST_LE_MS`` (64.5 s), 74 in all. The count under an ``le`` is then a sum of whole fine
buckets, so it is exactly the number of requests at or below that bound; no fine bucket straddles
an exposed bound. Consecutive bounds are a factor 1.2 apart, and a quantile found by
``histogram_quantile`` (linear interpolation inside the bucket holding its rank) lies in the very
bucket the Performance page reads its own figure from (the page reports that bucket's harmonic
middle, or the slowest request when that is lower). Hence ``QUANTILE_ERROR``: the two differ by at
most 10 % of the page's figure, 20 % when the page shows the slowest request itself. Below the
lowest bound Prometheus interpolates from 0; above the highest it answers the highest bound.

**Zero first.** ``increase()`` and ``delta()`` start from a series' first sample, so a series
that first appears with value 1 hides that request. Every route the app serves is exposed at zero
from the first scrape on (``route_keys``), and any other series (a method or path no route
expected, another version's endpoint) is held at zero by ``SeriesGate`` for a while before its
counts show.
"""
from __future__ import annotations

import threading
import time
from bisect import bisect_left
from datetime import timedelta
from typing import Callable, Hashable, Iterable

from sqlalchemy import bindparam, func, select, text

import database
from database import UTCDateTime
from services.monitor import RequestStat
from services.monitor import histogram
from services.monitor import label_for

LOWEST_LE_MS = 0.1
HIGHEST_LE_MS = 60_000.0
# Indexes of the fine buckets whose upper bounds are exposed: the first bound >= 0.1 ms up to the
# first bound >= 60 s (0.107 ms ... 64.5 s).
EXPOSED_INDEXES = tuple(range(bisect_left(histogram.BUCKET_BOUNDS_MS, LOWEST_LE_MS),
                              bisect_left(histogram.BUCKET_BOUNDS_MS, HIGHEST_LE_MS) + 1))
# The exposed bounds in seconds, and their ``le`` label values (repr: the exact float).
LE_SECONDS = tuple(histogram.BUCKET_BOUNDS_MS[i] / 1000.0 for i in EXPOSED_INDEXES)
LE_LABELS = tuple(repr(le) for le in LE_SECONDS)
# Largest difference between histogram_quantile and the Performance page's figure, as a share of
# the page's figure, inside [LE_SECONDS[0], LE_SECONDS[-1]]: the page's harmonic middle h of a
# bucket (L, G·L] is 2G/(1+G)·L and histogram_quantile lands in [L, G·L], so the gap is at most
# G·L/h - 1 = (G - 1)/2 above and 1 - L/h = (G - 1)/(2G) below: 10 % for G = 1.2.
QUANTILE_ERROR = (histogram.GROWTH - 1) / 2
# ... and when the page shows the slowest request (anywhere in (L, G·L]) instead: below G - 1.
QUANTILE_ERROR_AT_MAX = histogram.GROWTH - 1
# Methods every route answers without declaring them; exposed once a request uses them.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}

# Rows committed late (a slow flush) are still picked up if their minute is this recent.
LATE_ROWS = timedelta(minutes=10)
# Per (endpoint, method, label, histogram bucket) the count of rows older than :cutoff, summed
# inside the database from each row's JSON histogram.
_BUCKET_SUMS = {
    "sqlite": "SELECT r.endpoint, r.method, r.label, j.key, SUM(j.value) "
              "FROM request_stats AS r, json_each(r.buckets) AS j WHERE r.minute < :cutoff "
              "GROUP BY r.endpoint, r.method, r.label, j.key",
    "postgresql": "SELECT r.endpoint, r.method, r.label, j.key, SUM(CAST(j.value AS BIGINT)) "
                  "FROM request_stats AS r, json_each_text(r.buckets) AS j WHERE r.minute < :cutoff "
                  "GROUP BY r.endpoint, r.method, r.label, j.key",
}

Key = tuple[str, str, str]  # (endpoint, method, label)


def _exposed_position(index: int) -> int:
    """Position of the first exposed bound at or above fine bucket ``index``'s upper bound
    (``len(EXPOSED_INDEXES)``: above the highest one, counted under +Inf only)."""
    first, last = EXPOSED_INDEXES[0], EXPOSED_INDEXES[-1]
    if index <= first:
        return 0
    return index - first if index <= last else len(EXPOSED_INDEXES)


# Fine bucket index -> exposed position, worked out once.
_POSITION = tuple(_exposed_position(i) for i in range(histogram.MAX_INDEX + 1))


def route_keys(url_map) -> set[Key]:
    """(endpoint, method, label) of every route of ``url_map`` and each method it declares.

    Static files are left out (the request timer does not count them), and so are the methods
    every route answers implicitly (HEAD, OPTIONS): rare, so they appear once used.
    """
    keys = set()
    for rule in url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        for method in (rule.methods or ()):
            if method not in IMPLICIT_METHODS:
                keys.add((rule.endpoint, method, label_for(rule.rule)))
    return keys


class SeriesGate:
    """Decides, per scrape, which series may show their values; the others are shown at zero.

    A series first met after this process's first scrape is held at zero for ``hold`` seconds,
    and on at least one scrape, so every Prometheus scraping at most that far apart records the
    zero before the first count. On the process's first scrape every series shows its values:
    they continue what an earlier process exposed, and a zero there would read as a reset.
    """

    def __init__(self, hold: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.hold = max(0.0, float(hold))
        self.clock = clock
        self._lock = threading.Lock()
        self._first_seen: dict[Hashable, tuple[int, float]] = {}  # key -> (scrape number, time)
        self._scrapes = 0

    def admit(self, keys: Iterable[Hashable], known: Iterable[Hashable] = ()) -> set:
        """Of ``keys`` (the series of this scrape), those whose values may be shown.

        ``known`` series (exposed at zero from the first scrape on) count as seen since then.
        """
        now = self.clock()
        keys = set(keys)
        with self._lock:
            self._scrapes += 1
            if self._scrapes == 1:
                for key in keys | set(known):
                    self._first_seen[key] = (0, float("-inf"))
                return keys
            for key in known:
                self._first_seen.setdefault(key, (self._scrapes, now))
            admitted = set()
            for key in keys:
                scrape, at = self._first_seen.setdefault(key, (self._scrapes, now))
                if scrape < self._scrapes and now - at >= self.hold:
                    admitted.add(key)
            return admitted


class RequestTotals:
    """Running per-endpoint totals over every ``request_stats`` row seen since this process began.

    Rows are only ever inserted (one per flush, process, minute and endpoint), so reading the
    new ones on each scrape and adding them up keeps the counters monotonic and each scrape
    cheap, whatever the size of the table. Every process reads the same rows, so any of them
    answers for the whole deployment.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.totals: dict[Key, dict] = {}
        self.recent_ids: dict[int, object] = {}  # id -> minute, for rows inside LATE_ROWS
        self.loaded = False

    def refresh(self, session) -> dict[Key, dict]:
        """Add rows not seen yet; returns a snapshot of the totals (``le``: cumulative counts)."""
        with self.lock:
            cutoff = database.utcnow() - LATE_ROWS
            if not self.loaded:
                self._load_older(session, cutoff)
            # Rows of the late window one by one (by id), so a row committed late is counted once.
            query = select(RequestStat.id, RequestStat.minute, RequestStat.endpoint, RequestStat.method,
                           RequestStat.label, RequestStat.count, RequestStat.errors, RequestStat.total_ms,
                           RequestStat.buckets).where(RequestStat.minute >= cutoff)
            for row in session.execute(query):
                if row.id in self.recent_ids:
                    continue
                self.recent_ids[row.id] = row.minute
                entry = self._entry(row.endpoint, row.method, row.label)
                entry["count"] += row.count or 0
                entry["errors"] += row.errors or 0
                entry["sum_ms"] += row.total_ms or 0.0
                for index, count in (row.buckets or {}).items():
                    self._add_bucket(entry, index, count)
            self.recent_ids = {i: m for i, m in self.recent_ids.items() if m >= cutoff}
            self.loaded = True
            return {key: {**value, "le": _cumulative(value["per_le"])} for key, value in self.totals.items()}

    def _load_older(self, session, cutoff) -> None:
        """Rows older than the late window, summed by the database (the first scrape after a start):
        a month of rows costs one grouped read instead of a month of rows through Python."""
        sums = (select(RequestStat.endpoint, RequestStat.method, RequestStat.label,
                       func.sum(RequestStat.count), func.sum(RequestStat.errors), func.sum(RequestStat.total_ms))
                .where(RequestStat.minute < cutoff)
                .group_by(RequestStat.endpoint, RequestStat.method, RequestStat.label))
        for endpoint, method, label, count, errors, total_ms in session.execute(sums):
            entry = self._entry(endpoint, method, label)
            entry["count"] += int(count or 0)
            entry["errors"] += int(errors or 0)
            entry["sum_ms"] += float(total_ms or 0.0)
        buckets = text(_BUCKET_SUMS[session.get_bind().dialect.name]).bindparams(
            bindparam("cutoff", cutoff, type_=UTCDateTime))
        for endpoint, method, label, index, count in session.execute(buckets):
            self._add_bucket(self._entry(endpoint, method, label), index, count)

    def _entry(self, endpoint: str, method: str, label: str | None) -> dict:
        return self.totals.setdefault((endpoint, method, label or "app"), {
            "count": 0, "errors": 0, "sum_ms": 0.0, "per_le": [0] * (len(EXPOSED_INDEXES) + 1)})

    @staticmethod
    def _add_bucket(entry: dict, index, count) -> None:
        position = _POSITION[min(max(int(index), 0), histogram.MAX_INDEX)]
        entry["per_le"][position] += int(count)


def _cumulative(per_le: list[int]) -> list[int]:
    """Counts at or under each exposed bound (Prometheus buckets are cumulative)."""
    out, running = [], 0
    for count in per_le[:len(EXPOSED_INDEXES)]:
        running += count
        out.append(running)
    return out


ZERO = {"count": 0, "errors": 0, "sum_ms": 0.0, "le": [0] * len(EXPOSED_INDEXES)}
