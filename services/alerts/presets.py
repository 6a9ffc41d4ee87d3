"""The figures rules used to name directly, as rules on catalogue metrics.

Rules once watched ``cpu_percent``, ``error_rate``, ``failed_payment_rate``… through evaluators
of their own. Each is now a rule of kind ``metric`` on a catalogue figure with the same
definition (see ``services.metrics.builtins``): ``to_catalogue`` turns such a metric and its
params into the catalogue rule's params (a payload naming the old metric is still accepted and
stored this way), and ``legacy_of`` recognises one again where the old name still matters
(the Prometheus rule file's PromQL). Revision 0005_metric_rules keeps its own frozen copy.
"""
from __future__ import annotations

from typing import Any

# The old metric -> the catalogue rule: metric name, reducer and window (seconds).
# System figures: the newest sample of any host within 5 minutes (the snapshot showed the
# latest sample). Request figures: all requests of the 5 live minutes, weighted by requests;
# no traffic is "nothing is slow or failing" (no_data "ok" clears). Failed payments: the
# 15-minute buckets overlapping the rule's window, i.e. starting within window + 15 minutes.
_SIMPLE = {
    "cpu_percent": ("cpu_percent", "last", 300, "keep"),
    "memory_percent": ("memory_percent", "last", 300, "keep"),
    "disk_percent": ("disk_percent", "last", 300, "keep"),
    "error_rate": ("http_error_percent", "avg", 300, "ok"),
    "avg_response_ms": ("http_response_avg_ms", "avg", 300, "ok"),
}
FAILED_SHARE = "failed_payment_percent"
# The old failed_payment_rate params: name -> (lowest, highest, default).
FAILED_PARAMS = {"window_minutes": (15, 1440, 15), "min_transactions": (0, 1_000_000, 5)}
BUCKET_MINUTES = 15
# Units of the catalogue figures the shipped rules watch, for alert titles ("> 80%").
UNITS = {"cpu_percent": "%", "memory_percent": "%", "disk_percent": "%", "http_error_percent": "%",
         "http_response_avg_ms": "ms", FAILED_SHARE: "%"}


def names() -> tuple[str, ...]:
    """The old metric names that are now catalogue rules."""
    return (*_SIMPLE, "failed_payment_rate")


def to_catalogue(metric: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """The catalogue rule params for old ``metric`` with its old ``params`` (already checked)."""
    params = params or {}
    if metric in _SIMPLE:
        name, reducer, window, no_data = _SIMPLE[metric]
        return {"name": name, "match": "", "reducer": reducer, "window_seconds": window,
                "min_count": 0, "no_data": no_data}
    defaults = {k: spec[2] for k, spec in FAILED_PARAMS.items()}
    p = {**defaults, **{k: v for k, v in params.items() if k in FAILED_PARAMS}}
    return {"name": FAILED_SHARE, "match": "", "reducer": "avg",
            "window_seconds": int((p["window_minutes"] + BUCKET_MINUTES) * 60),
            "min_count": int(p["min_transactions"]), "no_data": "ok"}


def legacy_of(params: dict[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """(old metric, old params) when catalogue rule ``params`` mean exactly an old rule, else None."""
    p = params or {}
    if p.get("match"):
        return None
    for metric, (name, reducer, window, no_data) in _SIMPLE.items():
        if (p.get("name"), p.get("reducer"), p.get("window_seconds")) == (name, reducer, window):
            return metric, {}
    if p.get("name") == FAILED_SHARE and p.get("reducer") == "avg":
        minutes = int(p.get("window_seconds", 0)) // 60 - BUCKET_MINUTES
        if minutes >= FAILED_PARAMS["window_minutes"][0] and int(p["window_seconds"]) % 60 == 0:
            return "failed_payment_rate", {"window_minutes": minutes,
                                           "min_transactions": int(p.get("min_count", 0))}
    return None


def unit_of(params: dict[str, Any] | None) -> str:
    """The unit a catalogue rule's threshold is written in, when the panel knows it."""
    return UNITS.get((params or {}).get("name", ""), "")
