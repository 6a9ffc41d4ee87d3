"""Pushing metrics: what is accepted is stored whole, what is refused leaves nothing behind."""
from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import select

import database
from services.infra import topics
from services import metrics
from services.metrics.models import MetricRefusal
from tests.metrics_helpers import INGEST, counts, minute_ago, push, query


def test_accepted_batch_answers_counts_and_is_listed(app, client, admin_client):
    resp = push(client, [
        {"name": "queue_depth", "value": 4, "labels": {"queue": "mail"}, "unit": "jobs"},
        {"name": "queue_depth", "value": 9, "labels": {"queue": "pay"}},
        {"name": "queue_depth", "value": 5, "labels": {"queue": "mail"}},
    ])
    assert resp.status_code == 202
    assert resp.get_json() == {"accepted": {"metrics": 3}, "new_series": 2}
    catalog = admin_client.get("/admin/api/metrics/catalog?q=queue_depth").get_json()["series"]
    by_queue = {s["labels"]["queue"]: s for s in catalog}
    assert by_queue["mail"]["last_value"] == 5 and by_queue["pay"]["last_value"] == 9
    assert by_queue["mail"]["type"] == "gauge" and by_queue["mail"]["unit"] == "jobs"
    assert by_queue["mail"]["points_per_minute"] == pytest.approx(0.2)


@pytest.mark.parametrize("item, field", [
    ({"name": "1bad", "value": 1}, "name"),
    ({"name": "a" * 201, "value": 1}, "name"),
    ({"name": "ok", "value": "1"}, "value"),
    ({"name": "ok", "value": True}, "value"),
    ({"name": "ok", "value": 1, "type": "histogram"}, "type"),
    ({"name": "ok", "value": -1, "type": "counter"}, "value"),
    ({"name": "ok", "value": 1, "labels": {f"l{i}": "v" for i in range(11)}}, "labels"),
    ({"name": "ok", "value": 1, "labels": {"bad-name": "v"}}, "labels"),
    ({"name": "ok", "value": 1, "labels": {"k": 3}}, "labels.k"),
    ({"name": "ok", "value": 1, "labels": {"k": "a\nb"}}, "labels.k"),
    ({"name": "ok", "value": 1, "timestamp": "yesterday"}, "timestamp"),
    ({"name": "ok", "value": 1, "unit": "a b"}, "unit"),
    ({"name": "ok", "value": 1, "extra": 1}, "extra"),
    ({"name": "cpu_percent", "value": 1}, "name"),
])
def test_each_refusal_names_item_and_field(app, client, item, field):
    resp = push(client, [{"name": "fine", "value": 1}, item])
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["index"] == 1 and error["field"] == field
    assert counts(app)["metric_points"] == 0 and counts(app)["metric_series"] == 0


def test_number_too_large_for_a_float_is_refused(app, client):
    body = '{"metrics": [{"name": "ok", "value": 1}, {"name": "ok", "value": 1e400}]}'
    resp = client.post("/api/v1/metrics", data=body, headers=INGEST, content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["index"] == 1 and resp.get_json()["error"]["field"] == "value"
    assert counts(app)["metric_points"] == 0


def test_timestamp_window(app, client):
    now = minute_ago(0)
    too_old = (now - timedelta(hours=1, minutes=2)).isoformat()
    too_new = (now + timedelta(minutes=12)).timestamp()
    for ts in (too_old, too_new):
        resp = push(client, [{"name": "late", "value": 1, "timestamp": ts}])
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "timestamp"
    ok = push(client, [{"name": "late", "value": 1, "timestamp": (now - timedelta(minutes=50)).isoformat()}])
    assert ok.status_code == 202


def test_bad_thousandth_item_stores_nothing(app, client):
    items = [{"name": "bulk_metric", "value": i, "labels": {"n": str(i % 7)}} for i in range(999)]
    items.append({"name": "bulk_metric", "value": "NaN"})
    resp = push(client, items)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["index"] == 999
    assert resp.get_json()["error"]["field"] == "value"
    assert counts(app) == {"metric_series": 0, "metric_points": 0, "metric_minute": 0, "metric_hour": 0}
    items[-1] = {"name": "bulk_metric", "value": 1}
    assert push(client, items).status_code == 202
    assert counts(app)["metric_points"] == 1000


def test_more_than_1000_points_refused(app, client):
    resp = push(client, [{"name": "x", "value": 1}] * 1001)
    assert resp.status_code == 413 and counts(app)["metric_points"] == 0


def test_series_cap_refuses_and_counts(make_app):
    app = make_app(METRIC_MAX_SERIES=3)
    client = app.test_client()
    assert push(client, [{"name": "per_user", "value": 1, "labels": {"u": str(i)}} for i in range(3)]
                ).status_code == 202
    before = counts(app)
    resp = push(client, [{"name": "per_user", "value": 2, "labels": {"u": "0"}},
                         {"name": "per_user", "value": 2, "labels": {"u": "new1"}},
                         {"name": "per_user", "value": 3, "labels": {"u": "new2"}}])
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "too_many_series" and error["index"] == 1 and "METRIC_MAX_SERIES" in error["message"]
    assert counts(app) == before  # the point of the known series was not kept either
    with database.session_scope(app) as s:
        assert s.scalar(select(MetricRefusal.refused).where(MetricRefusal.name == "per_user")) == 2
    # Other names are not held back by this one's cap.
    assert push(client, [{"name": "other", "value": 1, "labels": {"u": "x"}}]).status_code == 202


def test_type_of_a_name_is_fixed(app, client):
    assert push(client, [{"name": "jobs_total", "value": 1, "type": "counter"}]).status_code == 202
    resp = push(client, [{"name": "jobs_total", "value": 1, "labels": {"a": "b"}}])
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "type"


def test_ingest_key_required(app, client):
    resp = client.post("/api/v1/metrics", json={"metrics": []})
    assert resp.status_code == 401
    resp = client.post("/api/v1/metrics/prometheus", data="g 1\n",
                       headers={"Authorization": "Bearer wrong"})
    assert resp.status_code == 401


def test_prometheus_text_round_trip(app, client, admin_client):
    registry = CollectorRegistry()
    jobs = Counter("jobs_done", "Jobs done", ["queue"], registry=registry)
    jobs.labels("mail").inc(7)
    jobs.labels("pay").inc(2)
    Gauge("model_accuracy", "Accuracy", ["model"], registry=registry).labels("rec-v2").set(0.913)
    latency = Histogram("inference_seconds", "Latency", buckets=(0.1, 0.5, 1.0), registry=registry)
    for value in (0.05, 0.3, 0.3, 2.0):
        latency.observe(value)
    body = generate_latest(registry).decode()
    resp = client.post("/api/v1/metrics/prometheus", data=body, headers={**INGEST, "Content-Type": "text/plain"})
    assert resp.status_code == 202, resp.get_json()
    # 2 counters, 1 gauge, 4 buckets + count + sum
    assert resp.get_json()["accepted"] == {"metrics": 9}
    catalog = admin_client.get("/admin/api/metrics/catalog").get_json()["series"]
    values = {(s["name"], tuple(sorted(s["labels"].items()))): (s["type"], s["last_value"]) for s in catalog}
    assert values[("jobs_done_total", (("queue", "mail"),))] == ("counter", 7.0)
    assert values[("jobs_done_total", (("queue", "pay"),))] == ("counter", 2.0)
    assert values[("model_accuracy", (("model", "rec-v2"),))] == ("gauge", 0.913)
    buckets = {dict(k[1])["le"]: v[1] for k, v in values.items() if k[0] == "inference_seconds_bucket"}
    assert buckets == {"0.1": 1.0, "0.5": 3.0, "1.0": 3.0, "+Inf": 4.0}
    assert values[("inference_seconds_count", ())] == ("counter", 4.0)
    assert values[("inference_seconds_sum", ())][1] == pytest.approx(2.65)
    answer = query(admin_client, name="jobs_done_total", agg="last", step="1h", match='queue="mail"')
    assert [s["points"][0][1] for s in answer["series"]] == [7.0]


def test_prometheus_garbage_is_400(app, client):
    resp = client.post("/api/v1/metrics/prometheus", data="this is { not prometheus", headers=INGEST)
    assert resp.status_code == 400 and counts(app)["metric_points"] == 0


def test_record_metric_validates_like_the_api(app, admin_client):
    with app.app_context():
        with pytest.raises(metrics.MetricError) as bad:
            metrics.record_metric("bad name", 1)
        assert bad.value.field == "name"
        with pytest.raises(metrics.MetricError) as bad:
            metrics.record_metric("ok_name", float("nan"))
        assert bad.value.field == "value"
        with pytest.raises(metrics.MetricError) as bad:
            metrics.record_metric("ok_name", 1, timestamp=minute_ago(90))
        assert bad.value.field == "timestamp"
        with pytest.raises(metrics.MetricError) as bad:
            metrics.record_metric("ok_name", 1, labels={"a": 1})
        assert bad.value.field == "labels.a"
        assert counts(app)["metric_points"] == 0
        stored = metrics.record_metric("signups", 12, labels={"campaign": "spring"}, unit="users")
    assert stored["value"] == 12 and stored["new_series"] == 1
    catalog = admin_client.get("/admin/api/metrics/catalog?q=signups").get_json()["series"]
    assert [(s["labels"], s["last_value"], s["unit"]) for s in catalog] == [({"campaign": "spring"}, 12, "users")]


def test_stored_batch_is_announced_after_commit(app, client):
    from services.infra import bus as events

    heard = []
    events.subscribe(topics.METRICS_STORED, heard.append)
    try:
        assert push(client, [{"name": "b_metric", "value": 1}, {"name": "a_metric", "value": 2}]).status_code == 202
        assert push(client, [{"name": "1bad", "value": 1}]).status_code == 400
    finally:
        events.unsubscribe(topics.METRICS_STORED, heard.append)
    assert heard == [{"points": 2, "names": ["a_metric", "b_metric"]}]
