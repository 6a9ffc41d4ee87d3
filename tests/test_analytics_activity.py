"""Active users, the activity feed, the weekday x hour heatmap, and recent transactions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import database
from services.insights import activity as analytics_activity
from services.ingest import store as ingest

from tests.test_analytics import ingest_all, tx


def _ago(**kw) -> str:
    return (database.utcnow() - timedelta(**kw)).isoformat()


def test_user_activity_route_counts_distinct_users(app, admin_client):
    ingest_all(app, activities=[
        {"user_id": "u1", "action": "login", "created_at": _ago(minutes=5)},
        {"user_id": "u1", "action": "view", "created_at": _ago(minutes=4)},
        {"user_id": "u2", "action": "view", "created_at": _ago(minutes=10)},
        {"user_id": "u3", "action": "purchase", "created_at": _ago(minutes=40)},  # outside 30 min
    ])
    resp = admin_client.get("/admin/api/user-activity", query_string={"minutes": 30, "limit": 2})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["active_users"] == 2
    assert body["by_action"] == [{"action": "view", "count": 2}, {"action": "login", "count": 1}]
    assert [(r["user_id"], r["action"]) for r in body["recent"]] == [("u1", "view"), ("u1", "login")]
    assert sum(map(sum, body["heatmap"])) == 4  # the heatmap looks back 28 days
    wide = admin_client.get("/admin/api/user-activity", query_string={"minutes": 60}).get_json()
    assert wide["active_users"] == 3


def test_user_activity_rejects_bad_parameters(app, admin_client):
    for query in ({"minutes": "0"}, {"minutes": "x"}, {"limit": "100000"}, {"tz": "Nowhere/City"}):
        resp = admin_client.get("/admin/api/user-activity", query_string=query)
        assert resp.status_code == 400, query
        assert resp.get_json()["error"]["code"] == "invalid_parameter"


def test_heatmap_places_actions_by_local_weekday_and_hour(app):
    now = datetime(2026, 3, 30, 12, 0, tzinfo=timezone.utc)  # Monday
    stamps = [
        "2026-03-29T00:30:00Z",  # Berlin Sun 01:30 CET; New York Sat 20:30 EDT; Kolkata Sun 06:00
        "2026-03-29T01:30:00Z",  # Berlin Sun 03:30 CEST (after the clock jumped)
        "2026-03-30T03:30:00Z",  # Berlin Mon 05:30; New York Sun 23:30
        "2026-03-30T11:20:00Z",  # Berlin Mon 13:20; Kolkata Mon 16:50 (a half-hour offset)
        "2026-03-30T11:50:00Z",  # Berlin Mon 13:50; Kolkata Mon 17:20
        "2026-02-01T12:00:00Z",  # older than the 28 days looked at
    ]
    ingest_all(app, activities=[{"user_id": f"u{i}", "action": "view", "created_at": s}
                                for i, s in enumerate(stamps)])

    def cells(tz_name):
        with app.app_context():
            grid = analytics_activity.user_activity(database.get_session(), now, 30, 10,
                                                    ZoneInfo(tz_name), 28)["heatmap"]
        assert len(grid) == 7 and all(len(row) == 24 for row in grid)
        return {(d, h): n for d, row in enumerate(grid) for h, n in enumerate(row) if n}

    assert cells("Europe/Berlin") == {(6, 1): 1, (6, 3): 1, (0, 5): 1, (0, 13): 2}
    assert cells("America/New_York") == {(5, 20): 1, (5, 21): 1, (6, 23): 1, (0, 7): 2}
    assert cells("Asia/Kolkata") == {(6, 6): 1, (6, 7): 1, (0, 9): 1, (0, 16): 1, (0, 17): 1}


def test_transactions_route_counts_statuses_and_lists_the_newest(app, admin_client):
    ingest_all(app, [
        tx("t1", _ago(minutes=50), 1000),
        tx("t2", _ago(minutes=20), 2500, currency="USD"),
        tx("t3", _ago(minutes=10), 700, status="failed"),
        tx("t4", _ago(minutes=5), 900, status="pending"),
        tx("t5", _ago(minutes=90), 5000),  # outside the hour
    ])
    body = admin_client.get("/admin/api/analytics/transactions",
                            query_string={"minutes": 60, "limit": 3}).get_json()
    assert body["counts"] == {"completed": 2, "pending": 1, "failed": 1, "refunded": 0, "total": 4}
    assert body["revenue_cents"] == {"EUR": 1000, "USD": 2500}
    assert [t["id"] for t in body["transactions"]] == ["t4", "t3", "t2"]
    # A status change moves the transaction between counts (and the cache follows the ingest).
    with app.app_context():
        ingest.record_transaction("t4", 900, "EUR", "completed", "c-t4",
                                  created_at=_ago(minutes=5))
    body = admin_client.get("/admin/api/analytics/transactions",
                            query_string={"minutes": 60, "limit": 3}).get_json()
    assert body["counts"]["pending"] == 0 and body["counts"]["completed"] == 3


def test_heatmap_history_is_cached_but_the_current_hour_is_live(app):
    now = datetime(2026, 3, 30, 12, 40, tzinfo=timezone.utc)  # Monday, Berlin 14:40
    ingest_all(app, activities=[{"user_id": "a", "action": "view", "created_at": "2026-03-30T09:10:00Z"}])

    def grid():
        with app.app_context():
            return analytics_activity.user_activity(database.get_session(), now, 30, 5,
                                                    ZoneInfo("Europe/Berlin"), 7)["heatmap"]

    assert grid()[0][11] == 1
    # New activity in the current hour shows at once, next to the cached past hours.
    ingest_all(app, activities=[{"user_id": "b", "action": "view", "created_at": "2026-03-30T12:30:00Z"}])
    again = grid()
    assert again[0][11] == 1 and again[0][14] == 1
    with app.app_context():
        from services.infra import cache as cache_manager
        assert cache_manager.stats()["namespaces"]["history"]["hits"] >= 1
