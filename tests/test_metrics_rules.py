"""Alert rules on any catalogue metric: a pushed metric's rule fires and resolves; a series that
stops reporting fires a no-data rule."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

import database
from database import utcnow
from services.alerts.models import Alert, AlertRule
from services.alerts import lifecycle as alerts
from services.alerts.values import DbProbe
from tests.metrics_helpers import push


def _only_custom_rules(app):
    # The shipped rules watch the system and business figures; only ours should move here.
    with database.session_scope(app) as s:
        s.execute(update(AlertRule).values(enabled=False))


def _evaluate(app, now):
    with database.session_scope(app) as s:
        alerts.evaluate(s, {}, now, DbProbe())
    with database.session_scope(app) as s:
        return {(a.rule_name, a.status, a.value) for a in s.scalars(select(Alert))}


def _rule(admin_client, **fields):
    resp = admin_client.api("POST", "/admin/api/alerts/rules", json={
        "operator": ">", "threshold": 50, "severity": "warning", **fields})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_rule_on_a_pushed_metric_fires_and_resolves(app, client, admin_client):
    _only_custom_rules(app)
    _rule(admin_client, name="Mail queue backing up", metric="metric",
          params={"name": "queue_depth", "match": 'queue="mail"', "reducer": "last", "window_seconds": 600})
    now = utcnow()
    assert push(client, [{"name": "queue_depth", "value": 500, "labels": {"queue": "pay"}},
                         {"name": "queue_depth", "value": 20, "labels": {"queue": "mail"},
                          "timestamp": (now - timedelta(seconds=60)).isoformat()}]).status_code == 202
    assert _evaluate(app, utcnow()) == set()  # 'pay' is over, but the rule watches 'mail'
    assert push(client, [{"name": "queue_depth", "value": 80, "labels": {"queue": "mail"}}]).status_code == 202
    assert _evaluate(app, utcnow()) == {("Mail queue backing up", "firing", 80.0)}
    assert push(client, [{"name": "queue_depth", "value": 12, "labels": {"queue": "mail"}}]).status_code == 202
    assert _evaluate(app, utcnow()) == {("Mail queue backing up", "resolved", 12.0)}


def test_no_data_rule_fires_when_a_series_stops_reporting(app, client, admin_client):
    _only_custom_rules(app)
    _rule(admin_client, name="Worker silent", metric="metric_no_data", operator=">=", threshold=5,
          params={"name": "worker_heartbeat", "match": "worker=w1"})
    now = utcnow()
    assert _evaluate(app, now) == set()  # never reported: nothing stopped
    assert push(client, [{"name": "worker_heartbeat", "value": 1, "labels": {"worker": "w1"},
                          "timestamp": (now - timedelta(minutes=10)).isoformat()},
                         {"name": "worker_heartbeat", "value": 1, "labels": {"worker": "w2"}}]).status_code == 202
    fired = _evaluate(app, now)
    assert [(n, st) for n, st, _ in fired] == [("Worker silent", "firing")]
    assert next(iter(fired))[2] == pytest.approx(10, abs=0.1)
    assert push(client, [{"name": "worker_heartbeat", "value": 1, "labels": {"worker": "w1"}}]).status_code == 202
    assert [(n, st) for n, st, _ in _evaluate(app, utcnow())] == [("Worker silent", "resolved")]


def test_rule_on_a_builtin_metric_over_a_window(app, admin_client):
    from services.monitor.models import SystemMetric

    _only_custom_rules(app)
    _rule(admin_client, name="Hot CPU", metric="metric", threshold=60,
          params={"name": "cpu_percent", "reducer": "avg", "window_seconds": 300})
    now = utcnow()
    with database.session_scope(app) as s:
        for sec, cpu in ((30, 90.0), (90, 70.0)):
            s.add(SystemMetric(recorded_at=now - timedelta(seconds=sec), host="h", cpu_percent=cpu,
                               memory_percent=1, disk_percent=1))
    assert _evaluate(app, now) == {("Hot CPU", "firing", 80.0)}


@pytest.mark.parametrize("params, word", [
    ({}, "params.name"), ({"name": "9x"}, "params.name"), ({"name": "q", "reducer": "median"}, "reducer"),
    ({"name": "q", "match": "a~b"}, "match"), ({"name": "q", "window_seconds": 0}, "window_seconds"),
    ({"name": "q", "other": 1}, "other"),
])
def test_bad_rule_params_are_refused(admin_client, params, word):
    resp = admin_client.api("POST", "/admin/api/alerts/rules", json={
        "name": "x", "metric": "metric", "operator": ">", "threshold": 1, "params": params})
    assert resp.status_code == 400 and word in resp.get_json()["error"]["message"]
