"""What the monitor itself costs: the request timer per request, the scheduler tick, memory.

- Request timer: one request in ``TIMER_COST_SAMPLE_EVERY`` has the timer's own work timed with
  ``perf_counter_ns`` (the sampling lives in the timer's WSGI wrapper); the rest pay only an
  integer increment.
- Scheduler tick: wall duration and the CPU time of the ticking thread (``time.thread_time``), so the
  sampler's CPU share is CPU spent in ticks / wall time over the recent window.
- Budget: a tick may use ``TICK_BUDGET_SHARE`` of its interval. When recent ticks take longer,
  ``next_interval`` widens the interval (up to ``TICK_MAX_WIDEN`` times the configured one) so the
  scheduler never falls behind, and returns to the configured interval once ticks are fast again.

The figures are per process (each process pays its own cost), so one instance lives per process.
"""
from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Iterator

import psutil
from services.live import sockets as socket_registry

WINDOW = 120          # recent ticks kept for averages and the CPU share
SETTLE_TICKS = 5      # the widened interval follows the slowest of the last few ticks


class SelfCost:
    """Thread-safe counters of the monitor's own cost in this process."""

    def __init__(self, budget_share: float = 0.5, sample_every: int = 100, max_widen: float = 8.0,
                 clock=time.monotonic):
        self.budget_share = budget_share
        self.sample_every = max(1, int(sample_every))
        self.max_widen = max(1.0, max_widen)
        self._clock = clock
        self._lock = threading.Lock()
        self._timer_ns: deque[int] = deque(maxlen=WINDOW * 4)
        self._timer_samples = 0
        self._folds: deque[tuple[int, int]] = deque(maxlen=WINDOW)  # (ns, requests) per fold
        self._ticks: deque[tuple[float, float, float | None]] = deque(maxlen=WINDOW)
        self._tick_count = 0
        self._over_budget = 0
        self._base: float | None = None
        self._interval: float | None = None
        self._process = psutil.Process()

    # -- request timer -------------------------------------------------------------------
    def record_timer_cost(self, nanoseconds: int) -> None:
        """Add the measured cost of the timer's own work on one request."""
        with self._lock:
            self._timer_ns.append(int(nanoseconds))
            self._timer_samples += 1

    def record_fold(self, nanoseconds: int, requests: int) -> None:
        """Add one fold of ``requests`` queued requests into the timer's counters (off the request)."""
        if requests > 0:
            with self._lock:
                self._folds.append((int(nanoseconds), int(requests)))

    def timer_cost_ns(self) -> dict | None:
        """Mean and max nanoseconds the timer added to a sampled request (None before a sample),
        and what folding them into counters later cost per request (None before a fold)."""
        with self._lock:
            values = list(self._timer_ns)
            samples = self._timer_samples
            folds = list(self._folds)
        if not values:
            return None
        folded = sum(n for _, n in folds)
        # ``window``: how many of the most recent samples the mean and max cover.
        return {"mean_ns": round(sum(values) / len(values)), "max_ns": max(values),
                "samples": samples, "window": len(values), "sample_every": self.sample_every,
                "fold_ns_per_request": round(sum(ns for ns, _ in folds) / folded) if folded else None}

    # -- scheduler tick ------------------------------------------------------------------
    def record_tick(self, duration: float, cpu_seconds: float | None = None,
                    started: float | None = None) -> None:
        """Record one tick that took ``duration`` wall seconds (and ``cpu_seconds`` of its thread)."""
        start = started if started is not None else self._clock() - duration
        with self._lock:
            self._ticks.append((start, float(duration), cpu_seconds))
            self._tick_count += 1
            if self._base is not None and duration > self.budget_share * (self._interval or self._base):
                self._over_budget += 1

    @contextmanager
    def measure_tick(self) -> Iterator[None]:
        """Time the enclosed tick (wall and thread CPU) and record it, even when it raises."""
        start, cpu = self._clock(), time.thread_time()
        try:
            yield
        finally:
            self.record_tick(self._clock() - start, time.thread_time() - cpu, start)

    def next_interval(self, base: float) -> float:
        """The seconds to wait before the next tick: ``base``, widened while ticks are over budget."""
        with self._lock:
            recent = [d for _, d, _ in list(self._ticks)[-SETTLE_TICKS:]]
            needed = max(recent) / self.budget_share if recent else 0.0
            interval = base if needed <= base else min(base * self.max_widen, math.ceil(needed * 10) / 10)
            self._base, self._interval = base, interval
            return interval

    def cpu_share(self) -> float | None:
        """CPU seconds spent in recent ticks / wall seconds they spanned (None before two ticks)."""
        with self._lock:
            ticks = list(self._ticks)
        timed = [(s, d, c) for s, d, c in ticks if c is not None]
        if len(timed) < 2:
            return None
        wall = max(self._clock(), timed[-1][0] + timed[-1][1]) - timed[0][0]
        return round(sum(c for _, _, c in timed) / wall, 6) if wall > 0 else None

    # -- reports -------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Every figure, JSON-ready: timer cost, tick durations, CPU share, memory, budget state."""
        with self._lock:
            durations = [d for _, d, _ in self._ticks]
            base, interval = self._base, self._interval
            ticks, over = self._tick_count, self._over_budget
        memory = self._process.memory_info()
        widened = bool(base and interval and interval > base)
        tick = None
        if durations:
            tick = {"last_ms": round(durations[-1] * 1000, 3),
                    "mean_ms": round(sum(durations) / len(durations) * 1000, 3),
                    "max_ms": round(max(durations) * 1000, 3), "count": ticks, "over_budget": over,
                    "window": len(durations)}
        return {
            "pid": os.getpid(),
            "timer": self.timer_cost_ns(),
            "tick": tick,
            "sampler_cpu_share": self.cpu_share(),
            "rss_bytes": memory.rss,
            "threads": self._process.num_threads(),
            "budget": {"share": self.budget_share, "base_interval_s": base, "interval_s": interval,
                       "widened": widened, "max_widen": self.max_widen},
            "message": self._message(durations, base, interval) if widened else None,
        }

    def _message(self, durations: list[float], base: float, interval: float) -> str:
        slowest = max(durations[-SETTLE_TICKS:])
        return (f"The scheduler tick takes {slowest:.2f} s, more than {self.budget_share:.0%} of its "
                f"{base:g} s interval; updates now come every {interval:g} s instead of falling behind.")

    def health(self) -> dict:
        """A health check entry: ``healthy``, or ``degraded`` with the reason while the interval is widened."""
        snap = self.snapshot()
        tick_ms = snap["tick"]["last_ms"] if snap["tick"] else None
        details = {"rss_bytes": snap["rss_bytes"], "sampler_cpu_share": snap["sampler_cpu_share"],
                   "tick_ms": tick_ms, "interval_s": snap["budget"]["interval_s"]}
        if snap["budget"]["widened"]:
            return {"status": "degraded", "message": snap["message"], **details}
        rss_mb = snap["rss_bytes"] / 1_048_576
        message = f"the monitor uses {rss_mb:.0f} MB of memory" + (
            f"; last tick {tick_ms:.1f} ms" if tick_ms is not None else "")
        return {"status": "healthy", "message": message, **details}


_current = SelfCost()


def init_app(app) -> None:
    """Give this process's cost counters the configured budget and sampling rate."""
    configure(float(app.config.get("TICK_BUDGET_SHARE", 0.5)),
              int(app.config.get("TIMER_COST_SAMPLE_EVERY", 100)),
              float(app.config.get("TICK_MAX_WIDEN", 8.0)))


def configure(budget_share: float, sample_every: int, max_widen: float) -> SelfCost:
    """Replace this process's counters with fresh ones using these settings."""
    global _current
    if not 0 < budget_share <= 1:
        raise ValueError("TICK_BUDGET_SHARE must be in (0, 1]")
    _current = SelfCost(budget_share, sample_every, max_widen)
    return _current


def current() -> SelfCost:
    """This process's counters."""
    return _current


def record_timer_cost(nanoseconds: int) -> None:
    """See ``SelfCost.record_timer_cost``."""
    _current.record_timer_cost(nanoseconds)


def record_fold(nanoseconds: int, requests: int) -> None:
    """See ``SelfCost.record_fold``."""
    _current.record_fold(nanoseconds, requests)


def timer_cost_ns() -> dict | None:
    """See ``SelfCost.timer_cost_ns``."""
    return _current.timer_cost_ns()


def record_tick(duration: float, cpu_seconds: float | None = None) -> None:
    """See ``SelfCost.record_tick``."""
    _current.record_tick(duration, cpu_seconds)


def measure_tick():
    """See ``SelfCost.measure_tick``."""
    return _current.measure_tick()


def next_interval(base: float) -> float:
    """See ``SelfCost.next_interval``."""
    return _current.next_interval(base)


def snapshot() -> dict:
    """See ``SelfCost.snapshot``."""
    return _current.snapshot()


def health() -> dict:
    """See ``SelfCost.health``."""
    return _current.health()


def report(app) -> dict:
    """``snapshot`` and the sockets connected to this process (and the others', with Redis)."""
    return {**_current.snapshot(), "sockets": socket_registry.counts(app)}
