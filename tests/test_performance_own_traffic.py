"""The Performance API leaves the panel's own traffic out on request and names each endpoint's
URL rule; Socket.IO counts as the panel's own."""
from __future__ import annotations

from datetime import timedelta

import database
from services.monitor import RequestStat
from services.monitor.performance_monitor import label_for


def test_exclude_leaves_the_panels_own_calls_out_and_rules_are_named(app, admin_client):
    now = database.utcnow().replace(second=0, microsecond=0)
    with database.session_scope(app) as s:
        for ep, label, n in (("pages.revenue", "page", 4), ("api.performance", "panel-api", 9),
                             ("ingest_api.ingest_events", "ingest", 2)):
            s.add(RequestStat(minute=now - timedelta(minutes=1), endpoint=ep, method="GET", label=label, count=n,
                              errors=0, total_ms=5.0 * n, max_ms=9.0, db_queries=0, db_ms=0.0, buckets={}))
    every = admin_client.get("/admin/api/performance?minutes=15").get_json()
    mine = admin_client.get("/admin/api/performance?minutes=15&exclude=panel-api").get_json()
    assert {e["endpoint"] for e in every["endpoints"]} >= {"pages.revenue", "api.performance"}
    assert "api.performance" not in {e["endpoint"] for e in mine["endpoints"]}
    assert mine["summary"]["count"] == every["summary"]["count"] - 9 - sum(
        e["count"] for e in every["endpoints"] if e["label"] == "panel-api" and e["endpoint"] != "api.performance")
    rules = {e["endpoint"]: e["rule"] for e in every["endpoints"]}
    assert rules["pages.revenue"] == "/admin/revenue" and rules["api.performance"] == "/admin/api/performance"
    bad = admin_client.get("/admin/api/performance?exclude=robots")
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "exclude"


def test_socket_io_is_the_panels_own_traffic():
    assert label_for("/socket.io/") == "panel-api"
    assert label_for("/admin/api/health") == "panel-api" and label_for("/admin/revenue") == "page"
