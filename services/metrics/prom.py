"""The Prometheus text exposition format, turned into points with prometheus_client's parser.

Counters, histogram buckets, counts and sums and summary counts and sums are counters;
gauges, summary quantiles, info and untyped samples are gauges. ``_created`` samples (when a
counter began, not a value) are left out, and so are NaN samples, which an exporter writes for
a quantile with no observations yet: they are reported as skipped, not stored.
"""
from __future__ import annotations

import math
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from services.metrics.validate import MetricError

COUNTER_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_gcount", "_gsum")
COUNTER_FAMILIES = ("counter", "histogram", "summary", "gaugehistogram")


def _kind(family_type: str, sample_name: str, family_name: str) -> str:
    if family_type == "counter":
        return "counter"
    if family_type in ("histogram", "summary") and sample_name != family_name:
        return "counter"  # _bucket, _count, _sum; a summary's quantiles carry the family's name
    return "gauge"


def parse(text: str) -> tuple[list[dict[str, Any]], int]:
    """The samples of ``text`` as metric items (as the JSON API takes them) and how many were skipped."""
    items: list[dict[str, Any]] = []
    skipped = 0
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.endswith("_created"):
                    continue
                if isinstance(sample.value, float) and math.isnan(sample.value):
                    skipped += 1
                    continue
                item: dict[str, Any] = {"name": sample.name, "value": sample.value,
                                        "type": _kind(family.type, sample.name, family.name)}
                if sample.labels:
                    item["labels"] = dict(sample.labels)
                if sample.timestamp is not None:
                    item["timestamp"] = float(sample.timestamp)
                items.append(item)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise MetricError(f"the body is not in the Prometheus text format: {str(exc)[:200]}",
                          field="body", code="invalid_body") from None
    return items, skipped
