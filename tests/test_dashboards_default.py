"""The default layout, made on first start, shows the figures the Overview's and the Revenue page's
API answer for the same range (today, UTC)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import database
from services.ingest import store as ingest
from tests.helpers import transaction


def _today_sales(app) -> None:
    now = datetime.now(timezone.utc)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    span = now - midnight
    at = [midnight + span * f for f in (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95)]
    items = [
        transaction("d1", 1200, at=at[0], customer_id="ann"),
        transaction("d2", 3400, at=at[1], customer_id="ben"),
        transaction("d3", 560, at=at[2], customer_id="ann"),
        transaction("d4", 990, at=at[3], customer_id="cy", currency="EUR"),
        transaction("d5", 800, at=at[4], customer_id="dee", status="failed"),
        transaction("d6", 2100, at=at[5], customer_id="eve"),
        transaction("d7", 450, at=at[6], customer_id="ben", status="refunded"),
        # Yesterday: outside "today", inside the 24 h trend.
        transaction("d8", 7000, at=midnight - timedelta(hours=2), customer_id="old"),
    ]
    with database.session_scope(app) as session:
        ingest.ingest_batch(session, {"transactions": items})


def test_the_default_layout_exists_once_and_everyone_sees_it(app, admin_client, viewer_client, make_app):
    listed = admin_client.get("/admin/api/dashboards").get_json()["dashboards"]
    default = [d for d in listed if d["is_default"]]
    assert len(default) == 1 and default[0]["title"] == "Business overview"
    assert [d["id"] for d in viewer_client.get("/admin/api/dashboards").get_json()["dashboards"]] == [default[0]["id"]]
    body = admin_client.get(f"/admin/api/dashboards/{default[0]['id']}").get_json()["dashboard"]
    assert [(w["id"], w["type"]) for w in body["widgets"]] == [
        ("revenue", "metric_card"), ("orders", "metric_card"), ("customers", "metric_card"),
        ("aov", "metric_card"), ("revenue_trend", "line"), ("top_performers", "table"),
        ("orders_hourly", "bar"), ("segments", "pie")]
    make_app()  # a second start on the same database adds no second default
    assert sum(d["is_default"] for d in admin_client.get("/admin/api/dashboards").get_json()["dashboards"]) == 1


def test_default_figures_equal_the_overview_and_revenue_apis(app, admin_client):
    _today_sales(app)
    default = admin_client.get("/admin/api/dashboards").get_json()["dashboards"][0]
    results = admin_client.api("POST", "/admin/api/widgets/query", json={"dashboard": default["id"]}).get_json()["results"]
    data = {wid: r[0]["data"] for wid, r in results.items()}

    now = datetime.now(timezone.utc)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = {"start": midnight.isoformat(), "end": now.isoformat(), "tz": "UTC"}
    # The Overview's revenue and orders cards read exactly this.
    overview = admin_client.get("/admin/api/analytics/revenue?" + urlencode({"period": "hourly", **today})).get_json()
    assert overview["currency"] == "USD" == data["revenue"]["currency"]
    assert data["revenue"]["value"] == overview["summary"]["total_cents"] == 1200 + 3400 + 560 + 2100
    assert data["orders"]["value"] == sum(c["orders"] for c in overview["currencies"]) == 5
    assert data["aov"]["value"] == overview["summary"]["average_transaction_cents"]
    customers = admin_client.get("/admin/api/analytics/customers?" + urlencode({"period": "hourly", **today})).get_json()
    assert data["customers"]["value"] == customers["summary"]["customers"] == 5
    assert dict(data["segments"]["rows"]) == {"new": customers["summary"]["new_customers"],
                                              "returning": customers["summary"]["returning_customers"]}
    top = customers["value"][0]["top_customers"]
    assert data["top_performers"]["rows"] == [[c["customer_id"], c["revenue_cents"], c["orders"]] for c in top]

    # The hourly trend: each hour's revenue equals the Revenue page's hourly bucket of the last 24 h.
    day = {"start": (now - timedelta(hours=24)).isoformat(), "end": now.isoformat(), "tz": "UTC"}
    hourly = admin_client.get("/admin/api/analytics/revenue?" + urlencode({"period": "hourly", **day})).get_json()
    expected = {datetime.fromisoformat(b["start"]): b["revenue_cents"] for b in hourly["buckets"] if b["revenue_cents"]}
    line = {datetime.fromisoformat(t): v for t, v in data["revenue_trend"]["series"][0]["points"] if v}
    assert line == expected and 7000 in line.values()
    bars = [p[1] for p in data["orders_hourly"]["series"][0]["points"]]
    assert sum(bars) == sum(c["orders"] for c in hourly["currencies"]) == 6
