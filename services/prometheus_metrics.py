"""Prometheus exposition: one custom collector per app, reading what the panel already stores.

Every figure comes from the database, so any process of a deployment answers for all of
them: request counts and latency histograms from the per-minute ``request_stats`` rows,
system gauges from the latest ``system_metrics`` sample, transactions and revenue from the
revenue rollups, alerts firing from ``alerts``. Each app gets its own ``CollectorRegistry``
(never the global default one), so several apps in one test run do not collide.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import SQLAlchemyError

import database
from database import Alert, CurrencyRollup, RequestStat, SystemMetric, UTCDateTime
from services import circuit_breaker

log = logging.getLogger(__name__)

PREFIX = "adminpanel"
# Upper bounds (seconds) of the exposed latency buckets: few enough to keep series cheap.
LE_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SEVERITIES = ("critical", "warning", "info")
STATUSES = ("completed", "pending", "failed", "refunded")
# Rows committed late (a slow flush) are still picked up if their minute is this recent.
LATE_ROWS = timedelta(minutes=10)
# Per (endpoint, method, label, histogram bucket) the count of rows older than :cutoff, summed
# inside the database from each row's JSON histogram.
_BUCKET_SUMS = {
    "sqlite": "SELECT r.endpoint, r.method, r.label, j.key, SUM(j.value) "
              "FROM request_stats AS r, json_each(r.buckets) AS j WHERE r.minute < :cutoff "
              "GROUP BY r.endpoint, r.method, r.label, j.key",
    "postgresql": "SELECT r.endpoint, r.method, r.label, j.key, SUM(CAST(j.value AS BIGINT)) "
                  "FROM request_stats AS r, json_each_text(r.buckets) AS j WHERE r.minute < :cutoff "
                  "GROUP BY r.endpoint, r.method, r.label, j.key",
}


def fine_bucket_bounds_ms() -> list[float]:
    """Upper bounds (ms) of the request timer's fixed log-spaced histogram buckets."""
    from services import histogram

    return list(histogram.BUCKET_BOUNDS_MS)


class RequestTotals:
    """Running per-endpoint totals over every ``request_stats`` row seen since this process began.

    Rows are only ever inserted (one per flush, process, minute and endpoint), so reading the
    new ones on each scrape and adding them up keeps the counters monotonic and each scrape
    cheap, whatever the size of the table.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.totals: dict[tuple[str, str, str], dict] = {}
        self.recent_ids: dict[int, object] = {}  # id -> minute, for rows inside LATE_ROWS
        self.loaded = False
        # Position of the first exposed bucket each fine bucket falls within (len(LE) = only +Inf).
        bounds = fine_bucket_bounds_ms()
        self.first_le = [next((pos for pos, le in enumerate(LE_SECONDS) if upper <= le * 1000),
                              len(LE_SECONDS)) for upper in bounds]

    def refresh(self, session) -> dict[tuple[str, str, str], dict]:
        """Add rows not seen yet; returns a snapshot of the totals."""
        with self.lock:
            cutoff = database.utcnow() - LATE_ROWS
            if not self.loaded:
                self._load_older(session, cutoff)
            # Rows of the late window one by one (by id), so a row committed late is counted once.
            query = select(RequestStat.id, RequestStat.minute, RequestStat.endpoint, RequestStat.method,
                           RequestStat.label, RequestStat.count, RequestStat.errors, RequestStat.total_ms,
                           RequestStat.buckets).where(RequestStat.minute >= cutoff)
            for row in session.execute(query):
                if row.id in self.recent_ids:
                    continue
                self.recent_ids[row.id] = row.minute
                entry = self._entry(row.endpoint, row.method, row.label)
                entry["count"] += row.count or 0
                entry["errors"] += row.errors or 0
                entry["sum_ms"] += row.total_ms or 0.0
                for index, count in (row.buckets or {}).items():
                    self._add_bucket(entry, index, count)
            self.recent_ids = {i: m for i, m in self.recent_ids.items() if m >= cutoff}
            self.loaded = True
            return {key: {**value, "le": self._cumulative(value["fine"])} for key, value in self.totals.items()}

    def _load_older(self, session, cutoff) -> None:
        """Rows older than the late window, summed by the database (the first scrape after a start):
        a month of rows costs one grouped read instead of a month of rows through Python."""
        sums = (select(RequestStat.endpoint, RequestStat.method, RequestStat.label,
                       func.sum(RequestStat.count), func.sum(RequestStat.errors), func.sum(RequestStat.total_ms))
                .where(RequestStat.minute < cutoff)
                .group_by(RequestStat.endpoint, RequestStat.method, RequestStat.label))
        for endpoint, method, label, count, errors, total_ms in session.execute(sums):
            entry = self._entry(endpoint, method, label)
            entry["count"] += int(count or 0)
            entry["errors"] += int(errors or 0)
            entry["sum_ms"] += float(total_ms or 0.0)
        buckets = text(_BUCKET_SUMS[session.get_bind().dialect.name]).bindparams(
            bindparam("cutoff", cutoff, type_=UTCDateTime))
        for endpoint, method, label, index, count in session.execute(buckets):
            self._add_bucket(self._entry(endpoint, method, label), index, count)

    def _entry(self, endpoint: str, method: str, label: str | None) -> dict:
        return self.totals.setdefault((endpoint, method, label or "app"), {
            "count": 0, "errors": 0, "sum_ms": 0.0, "fine": [0] * (len(LE_SECONDS) + 1)})

    def _add_bucket(self, entry: dict, index, count) -> None:
        last = len(self.first_le) - 1
        entry["fine"][self.first_le[min(int(index), last)]] += int(count)

    @staticmethod
    def _cumulative(per_le: list[int]) -> list[int]:
        """Counts at or under each exposed bound (Prometheus buckets are cumulative)."""
        out, running = [], 0
        for count in per_le[:len(LE_SECONDS)]:
            running += count
            out.append(running)
        return out


class PanelCollector:
    """Collects the panel's metric families from the database of one app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.requests = RequestTotals()

    def describe(self):
        """Nothing up front: families are only known after reading the database."""
        return []

    def collect(self):
        """Yield every family; a source that fails is reported as down, not raised."""
        up = GaugeMetricFamily(f"{PREFIX}_metrics_source_up",
                               "1 when the source of a metric group could be read.", labels=["source"])
        for name, builder in (("requests", self._requests), ("system", self._system),
                              ("transactions", self._transactions), ("alerts", self._alerts)):
            try:
                with database.session_scope(self.app) as session:
                    families = list(builder(session))
            except SQLAlchemyError as exc:
                circuit_breaker.log_failure(log, f"metrics: reading {name}", exc)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up

    def _requests(self, session):
        totals = self.requests.refresh(session)
        # label: panel-api, page, ingest or app (the kind of traffic, from the path).
        names = ["endpoint", "method", "label"]
        requests = CounterMetricFamily(f"{PREFIX}_http_requests", "Requests served, per endpoint.",
                                       labels=names)
        errors = CounterMetricFamily(f"{PREFIX}_http_request_errors",
                                     "Requests answered with a 5xx status, per endpoint.",
                                     labels=names)
        latency = HistogramMetricFamily(f"{PREFIX}_http_request_duration_seconds",
                                        "Time to answer a request, per endpoint.",
                                        labels=names)
        for (endpoint, method, label), entry in sorted(totals.items()):
            labels = [endpoint, method, label]
            requests.add_metric(labels, entry["count"])
            errors.add_metric(labels, entry["errors"])
            buckets = [(str(le), float(n)) for le, n in zip(LE_SECONDS, entry["le"])]
            buckets.append(("+Inf", float(entry["count"])))
            latency.add_metric(labels, buckets, entry["sum_ms"] / 1000.0)
        yield requests
        yield errors
        yield latency

    def _system(self, session):
        row = session.scalars(select(SystemMetric).order_by(SystemMetric.recorded_at.desc(),
                                                            SystemMetric.id.desc()).limit(1)).first()
        if row is None:
            return
        gauges = (
            ("cpu_percent", "CPU use of the host, percent.", row.cpu_percent),
            ("memory_percent", "Memory use of the host, percent.", row.memory_percent),
            ("disk_percent", "Disk use of the host, percent.", row.disk_percent),
            ("network_sent_bytes_per_second", "Network bytes sent per second.", row.net_sent_bps),
            ("network_received_bytes_per_second", "Network bytes received per second.", row.net_recv_bps),
            ("load1", "Load average over one minute.", row.load_1),
            ("process_resident_memory_bytes", "Resident memory of the sampling process.",
             row.process_rss_bytes),
            ("sample_timestamp_seconds", "When this sample was taken (Unix time).",
             row.recorded_at.timestamp()),
        )
        for name, doc, value in gauges:
            if value is None:
                continue
            family = GaugeMetricFamily(f"{PREFIX}_system_{name}", doc, labels=["host"])
            family.add_metric([row.host or ""], float(value))
            yield family

    def _transactions(self, session):
        sums = session.execute(
            select(CurrencyRollup.currency, func.sum(CurrencyRollup.completed), func.sum(CurrencyRollup.pending),
                   func.sum(CurrencyRollup.failed), func.sum(CurrencyRollup.refunded),
                   func.sum(CurrencyRollup.revenue_cents))
            .group_by(CurrencyRollup.currency).order_by(CurrencyRollup.currency)
        ).all()
        # A transaction moves between statuses but never disappears: the total is a counter.
        total = CounterMetricFamily(f"{PREFIX}_transactions", "Transactions stored since the start of data.",
                                    labels=["currency"])
        # Per status the count falls when a transaction changes status: a gauge, not a counter.
        by_status = GaugeMetricFamily(f"{PREFIX}_transactions_by_status",
                                      "Transactions stored, by their current status.",
                                      labels=["currency", "status"])
        revenue = GaugeMetricFamily(f"{PREFIX}_revenue_cents",
                                    "Revenue of completed transactions since the start of data, in minor "
                                    "units (falls when a completed transaction is refunded).",
                                    labels=["currency"])
        for currency, completed, pending, failed, refunded, cents in sums:
            counts = dict(zip(STATUSES, (int(completed or 0), int(pending or 0), int(failed or 0),
                                         int(refunded or 0))))
            total.add_metric([currency], sum(counts.values()))
            for status, count in counts.items():
                by_status.add_metric([currency, status], count)
            revenue.add_metric([currency], int(cents or 0))
        yield total
        yield by_status
        yield revenue

    def _alerts(self, session):
        rows = dict(session.execute(
            select(Alert.severity, func.count()).where(Alert.status == "firing").group_by(Alert.severity)
        ).all())
        family = GaugeMetricFamily(f"{PREFIX}_alerts_firing", "Alerts firing now, by severity.",
                                   labels=["severity"])
        for severity in sorted(set(SEVERITIES) | set(rows)):
            family.add_metric([severity], rows.get(severity, 0))
        yield family


def init_app(app: Flask) -> None:
    """Give ``app`` a registry of its own holding the panel collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PanelCollector(app))
    app.extensions["prometheus_registry"] = registry


def render(app: Flask) -> bytes:
    """The text exposition of ``app``'s registry."""
    return generate_latest(app.extensions["prometheus_registry"])
