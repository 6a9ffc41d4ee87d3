"""The panel timing itself: the request timer, the latency histogram, the system sampler, the
performance figures and the monitor's own cost.
"""
from __future__ import annotations

from services.monitor.models import RequestStat, SystemMetric
from services.monitor.performance_monitor import install_timer, label_for
from services.monitor.request_timer import RequestTimer
from services.monitor.sampler import CpuMeter, NetCounters, RateMeter, Sampler
from services.monitor.self_cost import SelfCost

__all__ = [
    "CpuMeter",
    "NetCounters",
    "RateMeter",
    "RequestStat",
    "RequestTimer",
    "Sampler",
    "SelfCost",
    "SystemMetric",
    "install_timer",
    "label_for",
]
