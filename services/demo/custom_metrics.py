"""The demo shop's own metrics, pushed as any service of its operators would push them.

Three believable families, driven by the shop's own traffic: a recommender's accuracy drifting
slowly down day after day (the model ages; nobody retrained it), inference latency per model
rising with the shop's load, and a job queue's depth per queue, the payments queue backing up
while the payment provider is down and draining once it is back.
"""
from __future__ import annotations

import logging
import math
import random
from datetime import datetime, timedelta

from flask import Flask

import database
from services import alerts, metrics
from services.demo.traffic import Shop, poisson

log = logging.getLogger(__name__)

RECOMMENDER = "rec-v3"
# Accuracy when the model was trained, and what it loses per day since.
ACCURACY_START = 0.934
ACCURACY_DRIFT_PER_DAY = 0.0035
# (model, median latency in ms at an average hour's load)
MODELS = (("rec-v3", 38.0), ("search-ranker", 12.0), ("fraud-score", 85.0))
QUEUES = ("emails", "payments", "webhooks")
# Payments jobs that pile up per minute while the provider is down, and drained per minute after.
PAYMENTS_BACKLOG_PER_MIN = 35.0
PAYMENTS_DRAIN_PER_MIN = 60.0
HISTORY_STEP = timedelta(minutes=5)
# The rule shipped with the demo: the payments queue's newest depth over 100 jobs.
QUEUE_RULE = {"name": "Payments queue backing up", "metric": "metric", "operator": ">", "threshold": 100,
              "for_seconds": 0, "severity": "warning",
              "params": {"name": "job_queue_depth", "match": 'queue="payments"', "reducer": "last",
                         "window_seconds": 300}}
# Live points every ten seconds: often enough for a live chart, few enough to stay cheap.
LIVE_EVERY_SECONDS = 10.0
# When the demo starts without a history, the model was trained this long ago.
DEFAULT_MODEL_AGE = timedelta(days=30)


class CustomMetrics:
    """Points of the demo's metrics for a moment; keeps the queues' backlog between calls."""

    def __init__(self, rng: random.Random, trained_at: datetime):
        self.rng = rng
        self.trained_at = trained_at
        self.backlog = 0.0

    def points(self, shop: Shop, moment: datetime, seconds: float) -> list[dict]:
        """One point per series at ``moment``; ``seconds`` since the previous call moves the backlog."""
        rng = self.rng
        load = shop.intensity(moment)
        days = max(0.0, (moment - self.trained_at).total_seconds() / 86_400)
        accuracy = ACCURACY_START - ACCURACY_DRIFT_PER_DAY * days + rng.gauss(0, 0.004)
        stamp = moment.isoformat()
        out = [{"name": "recommender_accuracy", "value": round(min(1.0, max(0.0, accuracy)), 4),
                "labels": {"model": RECOMMENDER}, "unit": "ratio", "timestamp": stamp}]
        for model, median in MODELS:
            # Busier hours queue requests on the model servers: latency grows with the load.
            ms = median * (0.8 + 0.35 * load) * math.exp(rng.gauss(0, 0.12))
            out.append({"name": "inference_latency_ms", "value": round(ms, 1), "labels": {"model": model},
                        "unit": "ms", "timestamp": stamp})
        minutes = seconds / 60
        if shop.in_outage(moment):
            self.backlog += PAYMENTS_BACKLOG_PER_MIN * minutes * rng.uniform(0.7, 1.3)
        else:
            self.backlog = max(0.0, self.backlog - PAYMENTS_DRAIN_PER_MIN * minutes)
        depth = {"emails": poisson(rng, 6 * load), "payments": round(self.backlog) + poisson(rng, 1.5 * load),
                 "webhooks": poisson(rng, 2.5)}
        for queue in QUEUES:
            out.append({"name": "job_queue_depth", "value": depth[queue], "labels": {"queue": queue},
                        "unit": "jobs", "timestamp": stamp})
        return out

    def history(self, shop: Shop, start: datetime, end: datetime) -> list[dict]:
        """Points every five minutes from ``start`` to ``end`` (the backfill's range)."""
        out: list[dict] = []
        moment = start
        while moment < end:
            out.extend(self.points(shop, moment, HISTORY_STEP.total_seconds()))
            moment += HISTORY_STEP
        return out


def backfill(app: Flask, shop: Shop, start: datetime, now: datetime) -> tuple[CustomMetrics, int]:
    """Push the metrics' history from ``start`` (the model trained then) to ``now``; the generator
    (to go on live from where the history ends) and the number of points stored."""
    gen = CustomMetrics(shop.rng, start)
    items = gen.history(shop, start, now)
    with database.session_scope(app) as session:
        result = metrics.ingest_history(session, items, app.config, earliest=start, now=now)
    ensure_rule(app)
    return gen, result.points


def ensure_rule(app: Flask) -> bool:
    """Add the demo's rule on its queue metric unless a rule of that name exists; True if added."""
    with database.session_scope(app) as session:
        try:
            alerts.rules.create_rule(session, dict(QUEUE_RULE))
        except alerts.RuleError:  # already there (an earlier start, or the admin's own rule)
            session.rollback()
            return False
        session.commit()
    return True


class LivePusher:
    """Pushes the demo's metrics from the live traffic, every ``LIVE_EVERY_SECONDS``."""

    def __init__(self, app: Flask, shop: Shop, gen: CustomMetrics | None = None):
        self.app = app
        self.shop = shop
        self.gen = gen or CustomMetrics(shop.rng, shop.now - DEFAULT_MODEL_AGE)
        self.since = 0.0

    def tick(self, now: datetime, seconds: float) -> int:
        """Push one round of points when it is due; the number of points stored."""
        self.since += seconds
        if self.since < LIVE_EVERY_SECONDS:
            return 0
        items = self.gen.points(self.shop, now, self.since)
        self.since = 0.0
        try:
            with database.session_scope(self.app) as session:
                return metrics.ingest_json(session, {"metrics": items}, self.app.config, now).points
        except metrics.MetricError as exc:  # a setting (a low METRIC_MAX_SERIES) refused them
            log.warning("demo metrics not stored: %s", exc.message)
            return 0
