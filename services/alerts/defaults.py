"""The alert rules shipped with the panel (seeded by services.alerts.rules.seed_defaults).

Kept apart from the rule logic so the list can grow without pushing rules.py past its size limit.
"""
from __future__ import annotations

from typing import Any


def _on(name: str, reducer: str = "last", window_seconds: int = 300, **more: Any) -> dict[str, Any]:
    """Params of a shipped rule on catalogue metric ``name``."""
    return {"name": name, "reducer": reducer, "window_seconds": window_seconds, **more}


# The shipped rules: one dict each ("key" recognises a shipped rule; "metric": "metric" with
# params from ``_on`` watches a catalogue metric, any other metric a special figure).
DEFAULT_RULES: list[dict[str, Any]] = [
    {"key": "error_rate", "name": "High error rate", "metric": "metric", "operator": ">",
     "threshold": 5.0, "for_seconds": 0, "severity": "critical",
     "params": _on("http_error_percent", "avg", no_data="ok")},
    {"key": "slow_responses", "name": "Slow responses", "metric": "metric", "operator": ">",
     "threshold": 1000.0, "for_seconds": 0, "severity": "warning",
     "params": _on("http_response_avg_ms", "avg", no_data="ok")},
    {"key": "memory", "name": "High memory use", "metric": "metric", "operator": ">",
     "threshold": 85.0, "for_seconds": 0, "severity": "warning", "params": _on("memory_percent")},
    {"key": "cpu", "name": "High CPU use", "metric": "metric", "operator": ">",
     "threshold": 80.0, "for_seconds": 300, "severity": "warning", "params": _on("cpu_percent")},
    {"key": "disk", "name": "Disk almost full", "metric": "metric", "operator": ">",
     "threshold": 90.0, "for_seconds": 0, "severity": "critical", "params": _on("disk_percent")},
    {"key": "db_latency", "name": "Slow database", "metric": "db_latency_ms", "operator": ">",
     "threshold": 500.0, "for_seconds": 0, "severity": "critical"},
    {"key": "db_failures", "name": "Database connection failures", "metric": "db_connection_failures",
     "operator": ">", "threshold": 0.0, "for_seconds": 0, "severity": "critical",
     "params": {"window_minutes": 5}},
    # 15-minute buckets overlapping the last 15 minutes: those starting in the last 30.
    {"key": "failed_payments", "name": "Failed payments", "metric": "metric",
     "operator": ">", "threshold": 10.0, "for_seconds": 0, "severity": "critical",
     "params": _on("failed_payment_percent", "avg", 1800, min_count=5, no_data="ok")},
    {"key": "no_sales", "name": "No completed transactions", "metric": "minutes_since_completed",
     "operator": ">=", "threshold": 30.0, "for_seconds": 0, "severity": "warning"},
    {"key": "revenue_drop", "name": "Revenue drop", "metric": "revenue_vs_baseline",
     "operator": "<", "threshold": 50.0, "for_seconds": 0, "severity": "warning",
     "params": {"weeks": 4}},
    {"key": "low_stock", "name": "Products low on stock", "metric": "metric", "operator": ">",
     "threshold": 10.0, "for_seconds": 0, "severity": "warning",
     "params": {"name": "low_stock_products", "reducer": "last", "window_seconds": 300}},
    # Service monitors (services.checks.metrics). "External" APIs are the monitors labelled
    # external="true" (a label, so the admin decides what is third-party, whatever its kind).
    {"key": "monitor_down", "name": "Monitor down for 2 minutes", "metric": "metric",
     "operator": ">", "threshold": 0.0, "for_seconds": 0, "severity": "critical",
     "params": {"name": "monitors_down", "reducer": "min", "window_seconds": 120}},
    {"key": "external_api_failures", "name": "External API check failures", "metric": "metric",
     "operator": ">", "threshold": 5.0, "for_seconds": 0, "severity": "critical",
     "params": {"name": "monitor_failures", "match": 'external="true"', "reducer": "sum",
                "window_seconds": 300}},
    {"key": "db_connections", "name": "Database connections near the limit", "metric": "metric",
     "operator": ">", "threshold": 90.0, "for_seconds": 0, "severity": "warning",
     "params": {"name": "db_connections_percent", "reducer": "last", "window_seconds": 300}},
]
