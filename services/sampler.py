"""System sampler: psutil readings, network rates from counter deltas, one row per sample."""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any, Callable, NamedTuple

import psutil

log = logging.getLogger(__name__)


class NetCounters(NamedTuple):
    """Cumulative bytes sent/received since boot (what psutil reports)."""

    bytes_sent: int
    bytes_recv: int


class RateMeter:
    """Bytes/second from two readings of ever-growing counters.

    The first reading, and a counter that went backwards (an interface reset), give 0.0
    instead of a bogus spike.
    """

    def __init__(self) -> None:
        self._last: tuple[float, NetCounters] | None = None

    def update(self, counters: NetCounters, now: float) -> tuple[float, float]:
        """Record ``counters`` read at ``now`` (seconds); return (sent_bps, recv_bps)."""
        previous, self._last = self._last, (now, counters)
        if previous is None:
            return 0.0, 0.0
        then, old = previous
        elapsed = now - then
        if elapsed <= 0:
            return 0.0, 0.0
        sent = counters.bytes_sent - old.bytes_sent
        recv = counters.bytes_recv - old.bytes_recv
        return (max(sent, 0) / elapsed, max(recv, 0) / elapsed)


def _net_counters() -> NetCounters:
    c = psutil.net_io_counters()
    return NetCounters(c.bytes_sent, c.bytes_recv) if c else NetCounters(0, 0)


class Sampler:
    """Reads the machine; ``sample()`` returns the values of one ``system_metrics`` row."""

    def __init__(self, disk_path: str = "/", net: Callable[[], NetCounters] = _net_counters,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.disk_path = disk_path
        self.net = net
        self.clock = clock
        self.rates = RateMeter()
        self.process = psutil.Process(os.getpid())
        self.host = f"{socket.gethostname()}:{os.getpid()}"[:128]
        self._lock = threading.Lock()
        # psutil's first cpu_percent(None) is meaningless (0.0); prime it so the first sample counts.
        psutil.cpu_percent(interval=None)
        self.rates.update(self.net(), self.clock())

    def sample(self) -> dict[str, Any]:
        """One reading: percentages in [0, 100], rates in bytes/s, load averages, this process's RSS."""
        with self._lock:
            cpu = psutil.cpu_percent(interval=None)
            memory = psutil.virtual_memory().percent
            disk = psutil.disk_usage(self.disk_path).percent
            sent_bps, recv_bps = self.rates.update(self.net(), self.clock())
            try:
                load = psutil.getloadavg()
            except (AttributeError, OSError):
                load = (None, None, None)
            rss = self.process.memory_info().rss
        return {
            "host": self.host,
            "cpu_percent": float(cpu),
            "memory_percent": float(memory),
            "disk_percent": float(disk),
            "net_sent_bps": round(sent_bps, 1),
            "net_recv_bps": round(recv_bps, 1),
            "load_1": load[0],
            "load_5": load[1],
            "load_15": load[2],
            "process_rss_bytes": int(rss),
        }
