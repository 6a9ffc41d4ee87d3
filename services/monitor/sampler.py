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


class CpuMeter:
    """System-wide CPU busy percent between two readings of ``psutil.cpu_times()``.

    Kept here rather than ``psutil.cpu_percent(None)``, whose baseline is shared by every
    caller in the process: another caller would silently shorten our measuring window.
    """

    def __init__(self, read: Callable[[], Any] = psutil.cpu_times) -> None:
        self.read = read
        self._last = self._split(read())

    @staticmethod
    def _split(times: Any) -> tuple[float, float]:
        fields = times._asdict()
        # guest time is already counted in user/nice on Linux; counting it twice inflates busy.
        total = sum(fields.values()) - fields.get("guest", 0.0) - fields.get("guest_nice", 0.0)
        idle = fields.get("idle", 0.0) + fields.get("iowait", 0.0)
        return total, total - idle

    def update(self) -> float:
        """Busy percent since the previous call (0.0 when no time passed)."""
        total, busy = self._split(self.read())
        last_total, last_busy = self._last
        self._last = (total, busy)
        elapsed = total - last_total
        if elapsed <= 0:
            return 0.0
        return round(min(100.0, max(0.0, (busy - last_busy) / elapsed * 100.0)), 1)


def _net_counters() -> NetCounters:
    c = psutil.net_io_counters()
    return NetCounters(c.bytes_sent, c.bytes_recv) if c else NetCounters(0, 0)


class Sampler:
    """Reads the machine; ``sample()`` returns the values of one ``system_metrics`` row."""

    def __init__(self, disk_path: str = "/", net: Callable[[], NetCounters] = _net_counters,
                 clock: Callable[[], float] = time.monotonic,
                 cpu_times: Callable[[], Any] = psutil.cpu_times) -> None:
        self.disk_path = disk_path
        self.net = net
        self.clock = clock
        self.rates = RateMeter()
        self.process = psutil.Process(os.getpid())
        self.host = f"{socket.gethostname()}:{os.getpid()}"[:128]
        self._lock = threading.Lock()
        # Baselines now, so the first sample already measures the time since the sampler began.
        self.cpu = CpuMeter(cpu_times)
        self.rates.update(self.net(), self.clock())

    def sample(self) -> dict[str, Any]:
        """One reading: percentages in [0, 100], rates in bytes/s, load averages, this process's RSS."""
        with self._lock:
            cpu = self.cpu.update()
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
