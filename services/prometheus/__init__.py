"""Prometheus: the /metrics exposition, its request series, and the alerting rules file for Prometheus.
"""
from __future__ import annotations

from services.prometheus.requests import (
    LE_SECONDS, QUANTILE_ERROR, QUANTILE_ERROR_AT_MAX, SeriesGate,
)
from services.prometheus.rules import PREFIX

__all__ = [
    "LE_SECONDS",
    "PREFIX",
    "QUANTILE_ERROR",
    "QUANTILE_ERROR_AT_MAX",
    "SeriesGate",
]
