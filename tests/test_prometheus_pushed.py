"""Pushed metrics on /metrics: each series with its labels, type and last value, as pushed."""
from __future__ import annotations

import subprocess

from prometheus_client.parser import text_string_to_metric_families

from tests.metrics_helpers import push
from tests.promql import AUTH, TOKEN, promtool


def families(client) -> dict:
    resp = client.get("/metrics", headers=AUTH)
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    return {f.name: f for f in text_string_to_metric_families(text)}, text


def samples_of(family) -> dict:
    return {(s.name, frozenset(s.labels.items())): s.value for s in family.samples}


def test_pushed_series_appear_with_labels_type_and_last_value(make_app):
    app = make_app(METRICS_TOKEN=TOKEN)
    client = app.test_client()
    resp = push(client, [
        {"name": "queue_depth", "value": 4, "labels": {"queue": "mail"}, "unit": "jobs"},
        {"name": "queue_depth", "value": 9.5, "labels": {"queue": "pay"}},
        {"name": "queue_depth", "value": 5, "labels": {"queue": "mail"}},
        {"name": "jobs_done", "value": 10, "type": "counter", "labels": {"worker": "a", "zone": "eu"}},
        {"name": "jobs_done", "value": 17, "type": "counter", "labels": {"worker": "a", "zone": "eu"}},
        {"name": "emails_sent_total", "value": 3, "type": "counter"},
        {"name": "model_accuracy", "value": 0.913},
    ])
    assert resp.status_code == 202, resp.get_json()
    found, _ = families(client)

    queue = found["adminpanel_custom_queue_depth"]
    assert queue.type == "gauge"
    assert samples_of(queue) == {
        ("adminpanel_custom_queue_depth", frozenset({"queue": "mail"}.items())): 5.0,
        ("adminpanel_custom_queue_depth", frozenset({"queue": "pay"}.items())): 9.5,
    }
    jobs = found["adminpanel_custom_jobs_done"]
    assert jobs.type == "counter"
    assert samples_of(jobs) == {
        ("adminpanel_custom_jobs_done_total", frozenset({"worker": "a", "zone": "eu"}.items())): 17.0}
    # Already named _total: one suffix, not two.
    assert samples_of(found["adminpanel_custom_emails_sent"]) == {
        ("adminpanel_custom_emails_sent_total", frozenset()): 3.0}
    assert samples_of(found["adminpanel_custom_model_accuracy"]) == {
        ("adminpanel_custom_model_accuracy", frozenset()): 0.913}
    up = samples_of(found["adminpanel_metrics_source_up"])
    assert up[("adminpanel_metrics_source_up", frozenset({"source": "custom"}.items()))] == 1.0


def test_a_name_clashing_with_an_earlier_family_is_left_out(make_app):
    app = make_app(METRICS_TOKEN=TOKEN)
    client = app.test_client()
    assert push(client, [{"name": "b_total", "value": 1},
                         {"name": "b", "value": 2, "type": "counter"}]).status_code == 202
    found, _ = families(client)
    # "b" sorts first: the counter b (sample b_total) is kept, the gauge b_total would repeat it.
    assert samples_of(found["adminpanel_custom_b"]) == {("adminpanel_custom_b_total", frozenset()): 2.0}
    assert "adminpanel_custom_b_total" not in found


def test_the_exposition_is_capped(make_app):
    app = make_app(METRICS_TOKEN=TOKEN, METRICS_EXPOSE_MAX_SERIES=3)
    client = app.test_client()
    assert push(client, [{"name": "wide", "value": i, "labels": {"k": str(i)}}
                         for i in range(5)]).status_code == 202
    found, _ = families(client)
    assert len(found["adminpanel_custom_wide"].samples) == 3


def test_promtool_accepts_the_exposition_with_pushed_metrics(make_app):
    tool = promtool()
    app = make_app(METRICS_TOKEN=TOKEN)
    client = app.test_client()
    assert push(client, [
        {"name": "inference_latency_seconds", "value": 0.0415, "labels": {"model": "ranker-v2"}, "unit": "s"},
        {"name": "orders_exported", "value": 12, "type": "counter", "labels": {"target": "erp"}},
    ]).status_code == 202
    _, text = families(client)
    run = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    problems = [line for line in (run.stdout + run.stderr).splitlines() if "custom" in line]
    assert problems == [], problems
