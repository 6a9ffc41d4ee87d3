"""Insights: revenue analytics, user activity, customers, channels and the timeline, read from the
ingested tables and their rollups.
"""
from __future__ import annotations

from services.insights.buckets import (
    InsightParamError, fixed_buckets, period_buckets, resolve_range, zone,
)
from services.insights.channels import channel_insights
from services.insights.customers import customer_insights
from services.insights.timeline import STEP, build_timeline

__all__ = [
    "InsightParamError",
    "STEP",
    "build_timeline",
    "channel_insights",
    "customer_insights",
    "fixed_buckets",
    "period_buckets",
    "resolve_range",
    "zone",
]
