"""Pushed metrics on /metrics: each series of ``POST /api/v1/metrics`` with its labels and its
last value, as a gauge or a counter.

Names are ``adminpanel_custom_<pushed name>``: the panel's prefix, and a part of its own so a
pushed name can never collide with one of the panel's families. Counters follow Prometheus's
convention, ``_total`` on the sample (a pushed counter already named ``…_total`` is not given a
second one). A name whose samples would clash with an earlier family (a gauge ``x_total`` beside a
counter ``x``) is left out rather than breaking the exposition. The count is bounded: at most
``METRIC_MAX_SERIES`` label sets per name (the ingest refuses more) and at most
``METRICS_EXPOSE_MAX_SERIES`` series in all.
"""
from __future__ import annotations

from itertools import groupby

from prometheus_client.metrics_core import Metric

from services import metrics

CUSTOM_PREFIX = "adminpanel_custom_"
DEFAULT_EXPOSE_MAX = 10_000


def families(session, config) -> list[Metric]:
    """One family per pushed metric name, one sample per series (its last value)."""
    limit = int(config.get("METRICS_EXPOSE_MAX_SERIES") or DEFAULT_EXPOSE_MAX)
    taken: set[str] = set()
    out: list[Metric] = []
    for name, group in groupby(metrics.pushed_series(session, limit), key=lambda row: row[0]):
        rows = list(group)
        kind = rows[0][2]
        base = CUSTOM_PREFIX + name
        if kind == "counter":
            base = base.removesuffix("_total")
            sample = base + "_total"
        else:
            sample = base
        if base in taken or sample in taken:
            continue
        taken.update((base, sample))
        unit = rows[0][3]
        doc = f"Pushed metric {name}" + (f" ({unit})." if unit else ".")
        family = Metric(base, doc, kind)
        for _, labels, row_kind, _, value in rows:
            if row_kind == kind:  # one type per family; a name pushed with both keeps its first
                family.add_sample(sample, labels, value)
        out.append(family)
    return out
