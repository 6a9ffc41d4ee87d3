"""Ingest: validating posted transactions and activity, storing them, and keeping the derived
tables (15-minute rollups, customers' first transaction) exact as rows arrive.
"""
from __future__ import annotations

from services.ingest.models import (
    CurrencyRollup, CustomerFirstSeen, RevenueRollup, Transaction, UserActivity,
)
from services.ingest.rollups import begin_write
from services.ingest.validation import LEVELS, ValidationError, parse_query_time

__all__ = [
    "CurrencyRollup",
    "CustomerFirstSeen",
    "LEVELS",
    "RevenueRollup",
    "Transaction",
    "UserActivity",
    "ValidationError",
    "begin_write",
    "parse_query_time",
]
