"""Prometheus exposition: one custom collector per app, reading what the panel already stores.

Every figure comes from the database, so any process of a deployment answers for all of
them: request counts and latency histograms from the per-minute ``request_stats`` rows,
system gauges from the latest ``system_metrics`` sample, transactions and revenue from the
revenue rollups, alerts firing from ``alerts``. Each app gets its own ``CollectorRegistry``
(never the global default one), so several apps in one test run do not collide. How the
request families choose their ``le`` bounds and why series start at zero:
``services.prometheus.requests``.
"""
from __future__ import annotations

import gzip
import logging

from flask import Flask
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import gzip_accepted
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

import database
from services.alerts import Alert
from services.ingest import CurrencyRollup
from services.monitor import SystemMetric
from services.infra import breaker as circuit_breaker
from services.prometheus import pushed
from services.prometheus.requests import LE_LABELS, ZERO, RequestTotals, SeriesGate, route_keys

log = logging.getLogger(__name__)

PREFIX = "adminpanel"
SEVERITIES = ("critical", "warning", "info")
STATUSES = ("completed", "pending", "failed", "refunded")


class PanelCollector:
    """Collects the panel's metric families from the database of one app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.requests = RequestTotals()
        hold = app.config.get("METRICS_NEW_SERIES_HOLD", 60)
        # Endpoint series and currency series are gated apart: each has its own first scrape.
        self.endpoint_gate = SeriesGate(hold)
        self.currency_gate = SeriesGate(hold)
        self._routes: set | None = None

    def _route_keys(self) -> set:
        # Read at the first scrape, when every blueprint is registered; routes never change after.
        if self._routes is None:
            self._routes = route_keys(self.app.url_map)
        return self._routes

    def describe(self):
        """Nothing up front: families are only known after reading the database."""
        return []

    def collect(self):
        """Yield every family; a source that fails is reported as down, not raised."""
        up = GaugeMetricFamily(f"{PREFIX}_metrics_source_up",
                               "1 when the source of a metric group could be read.", labels=["source"])
        for name, builder in (("requests", self._requests), ("system", self._system),
                              ("transactions", self._transactions), ("alerts", self._alerts),
                              ("custom", self._custom)):
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
        routes = self._route_keys()
        shown = self.endpoint_gate.admit(totals, known=routes)
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
        # Every route at zero until its first request; a series held by the gate shows zero too.
        for key in sorted(routes | set(totals)):
            entry = totals[key] if key in shown else ZERO
            labels = list(key)
            requests.add_metric(labels, entry["count"])
            errors.add_metric(labels, entry["errors"])
            buckets = [(le, float(n)) for le, n in zip(LE_LABELS, entry["le"])]
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
        # A currency first met after the first scrape shows zeros for a while, so delta() and
        # increase() see its first transactions.
        shown = self.currency_gate.admit(row[0] for row in sums)
        for currency, completed, pending, failed, refunded, cents in sums:
            if currency not in shown:
                completed = pending = failed = refunded = cents = 0
            counts = dict(zip(STATUSES, (int(completed or 0), int(pending or 0), int(failed or 0),
                                         int(refunded or 0))))
            total.add_metric([currency], sum(counts.values()))
            for status, count in counts.items():
                by_status.add_metric([currency, status], count)
            revenue.add_metric([currency], int(cents or 0))
        yield total
        yield by_status
        yield revenue

    def _custom(self, session):
        return pushed.families(session, self.app.config)

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


def exposition(app: Flask, accept_encoding: str = "") -> tuple[bytes, dict[str, str]]:
    """The exposition and its headers, gzipped when the scraper accepts it (Prometheus does):
    with every route's latency buckets the text is about half a megabyte, gzipped a few percent."""
    body = render(app)
    headers = {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store", "Vary": "Accept-Encoding"}
    if gzip_accepted(accept_encoding):
        body = gzip.compress(body, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return body, headers
