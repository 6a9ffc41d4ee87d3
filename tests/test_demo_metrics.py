"""The demo's own metrics: a recommender's accuracy drifting down over days, inference latency
per model, and a payments queue that backs up during the payment outages, pushed from its
history and from its live traffic."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from statistics import mean, median

from sqlalchemy import select, update

import database
from database import utcnow
from services.alerts import lifecycle as alert_lifecycle
from services.alerts.models import Alert, AlertRule
from services.alerts.values import DbProbe
from services.demo import Shop, custom_metrics
from services.demo import mode as demo
from tests.metrics_helpers import query

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=timezone.utc)


def points(admin_client, name, start, end, **params):
    body = query(admin_client, name=name, start=start.isoformat(), end=end.isoformat(), **params)
    return {tuple(sorted(s["labels"].items())): s["points"] for s in body["series"]}


def test_backfill_pushes_believable_history(app, admin_client):
    result = demo.backfill(app, 3, now=NOW, rng=random.Random(2), progress=lambda *a, **k: None)
    start = NOW - timedelta(days=3)
    series = points(admin_client, "recommender_accuracy", start, NOW, step="1d", agg="avg")
    daily = [v for _, v in series[(("model", "rec-v3"),)]]
    assert len(daily) >= 3 and all(a > b for a, b in zip(daily, daily[1:])), daily  # drifts down day by day
    assert 0.85 < daily[-1] < daily[0] < 0.95

    latency = points(admin_client, "inference_latency_ms", start, NOW, step="1d", agg="avg")
    by_model = {dict(k)["model"]: mean(v for _, v in pts) for k, pts in latency.items()}
    assert set(by_model) == {"rec-v3", "search-ranker", "fraud-score"}
    assert by_model["search-ranker"] < by_model["rec-v3"] < by_model["fraud-score"]

    depth = points(admin_client, "job_queue_depth", start, NOW, step="5m", agg="last")
    assert {dict(k)["queue"] for k in depth} == {"emails", "payments", "webhooks"}
    shop = result["shop"]
    assert shop.outages, "three days without an outage: pick another seed"
    payments = depth[(("queue", "payments"),)]
    at = lambda t: datetime.fromisoformat(t)  # noqa: E731
    ends_of_outages = [v for t, v in payments
                       if any(b + timedelta(minutes=10) <= at(t) < e for b, e in shop.outages)]
    calm = [v for t, v in payments if not any(b <= at(t) < e + timedelta(hours=2) for b, e in shop.outages)]
    assert ends_of_outages and max(ends_of_outages) > 100  # backed up while payments failed
    assert median(calm) < 10
    # Every pushed point of the history is stored: 7 series every five minutes for 3 days.
    assert result["metric_points"] == 7 * 3 * 24 * 12


def test_live_traffic_pushes_the_metrics_every_ten_seconds(app, admin_client):
    traffic = demo.LiveTraffic(app, Shop(random.Random(3), utcnow()))
    moment = utcnow() - timedelta(seconds=30)
    for i in range(25):
        traffic.tick(moment + timedelta(seconds=i))
    got = points(admin_client, "job_queue_depth", moment - timedelta(minutes=1), utcnow(), step="1s", agg="last")
    assert {dict(k)["queue"] for k in got} == {"emails", "payments", "webhooks"}
    assert all(len(pts) == 2 for pts in got.values()), got  # at 10 s and at 20 s
    catalog = admin_client.get("/admin/api/metrics/catalog?q=recommender_accuracy").get_json()["series"]
    assert [s["labels"] for s in catalog] == [{"model": "rec-v3"}]


def test_the_demo_rule_fires_while_the_payments_queue_backs_up_and_resolves_after(app, admin_client):
    demo.backfill(app, 0.2, rng=random.Random(2), progress=lambda *a, **k: None)
    with database.session_scope(app) as s:
        # The shipped rules watch the system and business figures; only the demo's should move here.
        s.execute(update(AlertRule).where(AlertRule.name != custom_metrics.QUEUE_RULE["name"]).values(enabled=False))
    rules = admin_client.get("/admin/api/alerts/rules").get_json()["rules"]
    assert [r["params"]["name"] for r in rules if r["name"] == "Payments queue backing up"] == ["job_queue_depth"]
    assert custom_metrics.ensure_rule(app) is False  # a second start adds no second rule

    now = utcnow()
    shop = Shop(random.Random(4), now)
    shop.outages = [(now - timedelta(minutes=5), now + timedelta(minutes=5))]
    pusher = custom_metrics.LivePusher(app, shop)
    pusher.tick(now, 240)  # four minutes of failing payments
    firing = evaluate(app)
    assert len(firing) == 1 and firing[0][:2] == ("Payments queue backing up", "firing") and firing[0][2] > 100
    shop.outages = []
    pusher.tick(utcnow(), 600)  # ten calm minutes drain the backlog
    resolved = evaluate(app)
    assert resolved[0][:2] == ("Payments queue backing up", "resolved") and resolved[0][2] < 100


def evaluate(app):
    with database.session_scope(app) as s:
        alert_lifecycle.evaluate(s, {}, utcnow(), DbProbe())
    with database.session_scope(app) as s:
        return [(a.rule_name, a.status, a.value) for a in s.scalars(select(Alert))]
