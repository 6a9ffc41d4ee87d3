"""The monitors' figures in the metrics catalogue, the query and alert rules: what the checks stored."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

import database
from database import utcnow
from services.alerts import lifecycle
from services.alerts.models import Alert, AlertRule
from services.alerts.values import DbProbe
from services.checks import check_once, service
from services.checks.models import MINUTE, MonitorResult, MonitorRollup
from tests.checks_target import app, target  # noqa: F401 (fixtures)
from tests.metrics_helpers import minute_ago, push, query


@pytest.fixture
def checked(app, target):
    """One monitor checked three times a minute apart: ok, failed (down at once), ok (still down)."""
    with database.session_scope(app) as s:
        mid = service.create(s, {"name": "shop", "kind": "http", "url": target.url, "labels": {"team": "web"},
                                 "failure_threshold": 1, "recovery_threshold": 2}, min_interval=1).id
        service.create(s, {"name": "other", "kind": "tcp", "host": "127.0.0.1", "port": target.port},
                       min_interval=1)
    base = minute_ago(3)
    for minute, status in ((0, 200), (1, 503), (2, 200)):
        target.status = status
        check_once(app, mid, now=base + timedelta(minutes=minute, seconds=10))
    with database.session_scope(app) as s:
        # One check per minute bucket: each bucket's sum is that check's time.
        latencies = list(s.scalars(select(MonitorRollup.latency_sum_ms).where(
            MonitorRollup.monitor_id == mid, MonitorRollup.resolution == MINUTE).order_by(MonitorRollup.bucket_start)))
        # Raw rows: the first check (pending -> up) and the failure; the last success is counted only.
        assert len(s.scalars(select(MonitorResult.id).where(MonitorResult.monitor_id == mid)).all()) == 2
    return base, latencies


def test_query_answers_each_check_of_the_monitor(admin_client, checked):
    base, latencies = checked
    window = {"start": base.isoformat(), "end": (base + timedelta(minutes=3)).isoformat(), "step": "60"}
    up = query(admin_client, name="monitor_up", agg="last", match="monitor=shop", **window)
    assert up["series"] == [{"labels": {"monitor": "shop", "team": "web"}, "points": [
        [(base + timedelta(minutes=m)).isoformat(), v] for m, v in ((0, 1.0), (1, 0.0), (2, 1.0))]}]
    latency = query(admin_client, name="monitor_latency_ms", agg="max", match="team=web", **window)
    [series] = latency["series"]
    assert len(latencies) == 3 and [v for _, v in series["points"]] == pytest.approx(latencies)
    assert latency["unit"] == "ms"
    # The other monitor was never checked: it has no points, and a matcher keeps it out anyway.
    assert query(admin_client, name="monitor_up", agg="last", match="monitor=other", **window)["series"] == []


def test_catalog_lists_state_latency_and_uptime_per_monitor(admin_client, checked):
    _, latencies = checked
    series = admin_client.get("/admin/api/metrics/catalog?q=monitor_").get_json()["series"]
    shop = {e["name"]: e["last_value"] for e in series if e["labels"].get("monitor") == "shop"}
    # Down since the failure: one good check is not enough to recover (recovery_threshold 2).
    assert shop == {"monitor_up": 0.0, "monitor_latency_ms": pytest.approx(latencies[-1]),
                    "monitor_failures": 0.0}  # the good check ended the failures in a row
    other = {e["name"]: e["last_value"] for e in series if e["labels"].get("monitor") == "other"}
    assert other == {"monitor_up": None, "monitor_latency_ms": None, "monitor_failures": 0.0}
    down = admin_client.get("/admin/api/metrics/catalog?q=monitors_down").get_json()["series"]
    assert [(e["labels"], e["last_value"]) for e in down] == [({}, 1.0)]
    uptime = admin_client.get("/admin/api/metrics/catalog?q=uptime_24h").get_json()["series"]
    assert {e["labels"]["monitor"]: e["last_value"] for e in uptime} == {
        "shop": pytest.approx(200 / 3, abs=1e-3), "other": None}


def test_pushing_under_a_monitor_name_is_refused(client):
    resp = push(client, [{"name": "monitor_up", "value": 1}])
    assert resp.status_code == 400 and "monitor_up" in resp.get_data(as_text=True)


def test_alert_rules_read_the_monitor_figures(app, admin_client, checked):
    _, latencies = checked
    with database.session_scope(app) as s:  # only the rules made here may move
        s.execute(update(AlertRule).values(enabled=False))
    for fields in ({"name": "Slow shop", "operator": ">", "threshold": 0,
                    "params": {"name": "monitor_latency_ms", "reducer": "max", "window_seconds": 600,
                               "match": "monitor=shop"}},
                   {"name": "Shop failed a check", "operator": "<", "threshold": 1,
                    "params": {"name": "monitor_up", "reducer": "min", "window_seconds": 600,
                               "match": "team=web"}}):
        resp = admin_client.api("POST", "/admin/api/alerts/rules",
                                json={"metric": "metric", "severity": "warning", **fields})
        assert resp.status_code == 201, resp.get_json()
    with database.session_scope(app) as s:
        lifecycle.evaluate(s, {}, utcnow(), DbProbe())
    with database.session_scope(app) as s:
        fired = {a.rule_name: (a.status, a.value) for a in s.scalars(select(Alert))}
    # The monitor's own down alert is there too (its failure); the two rules fired beside it.
    assert fired == {"monitor: shop": ("firing", 0.0), "Slow shop": ("firing", pytest.approx(max(latencies))),
                     "Shop failed a check": ("firing", 0.0)}
