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


def test_traffic_overlay_counts_the_compared_window_minute_by_minute(app, admin_client):
    now = database.utcnow().replace(second=0, microsecond=0)
    with database.session_scope(app) as s:
        for back, n in ((1, 3), (20, 5), (25, 6), (7 * 24 * 60 + 2, 11), (7 * 24 * 60 - 20, 99)):
            s.add(RequestStat(minute=now - timedelta(minutes=back), endpoint="pages.revenue", method="GET", label="page",
                              count=n, errors=0, total_ms=1.0, max_ms=1.0, db_queries=0, db_ms=0.0, buckets={}))
    prev = admin_client.get("/admin/api/performance?minutes=15&compare=previous").get_json()["compare"]
    assert prev["count"] == 5 + 6  # the window just before holds the 20- and 25-minute-old rows
    assert sum(p["count"] for p in prev["timeline"]) == prev["count"] and len(prev["timeline"]) == 15
    week = admin_client.get("/admin/api/performance?minutes=15&compare=week").get_json()["compare"]
    assert week["count"] == 11  # the row 20 minutes after that window is past its end
    plain = admin_client.get("/admin/api/performance?minutes=15").get_json()
    assert plain["summary"]["count"] == 3
