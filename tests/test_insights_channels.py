"""Channels side by side, from the rollups, against hand-computed expectations."""
from __future__ import annotations

import database
from services.ingest import store as ingest
from tests.helpers import transaction

RANGE = "start=2026-04-01T00:00:00Z&end=2026-04-03T00:00:00Z&period=daily&tz=UTC"


def tx(id_, cents, status, channel, at, currency="USD"):
    return transaction(id_, cents, status=status, currency=currency, at=at,
                       customer_id=f"cust-{id_}", channel=channel)


TRANSACTIONS = [
    tx("w1", 1000, "completed", "web", "2026-04-01T10:00:00Z"),
    tx("w2", 3000, "completed", "web", "2026-04-02T10:00:00Z"),
    tx("w3", 500, "failed", "web", "2026-04-02T11:00:00Z"),
    tx("p1", 2500, "completed", "app", "2026-04-01T12:00:00Z"),
    tx("p2", 100, "pending", "app", "2026-04-02T12:00:00Z"),
    tx("m1", 700, "failed", "amazon", "2026-04-01T13:00:00Z"),   # a channel with only failures
    tx("m2", 800, "failed", "amazon", "2026-04-02T13:00:00Z"),
    tx("n1", 600, "completed", None, "2026-04-02T14:00:00Z"),    # no channel given
    tx("x1", 900, "completed", "web", "2026-04-01T15:00:00Z", currency="EUR"),
    tx("z1", 5000, "completed", "web", "2026-04-05T10:00:00Z"),  # outside the range
]


def load(app):
    with database.session_scope(app) as session:
        ingest.ingest_batch(session, {"transactions": TRANSACTIONS})


def get(admin_client, query):
    resp = admin_client.get(f"/admin/api/analytics/channels?{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_channels_side_by_side_in_the_main_currency(app, admin_client):
    load(app)
    data = get(admin_client, RANGE)
    assert data["currency"] == "USD"
    assert [c["currency"] for c in data["currencies"]] == ["USD", "EUR"]
    by = {c["channel"]: c for c in data["channels"]}
    assert [c["channel"] for c in data["channels"]] == ["web", "app", "", "amazon"]
    assert by["web"]["revenue_cents"] == 4000 and by["web"]["orders"] == 2
    assert by["web"]["transactions"] == 3 and by["web"]["success_rate"] == round(2 / 3, 4)
    assert by["web"]["average_order_cents"] == 2000
    assert by["app"]["revenue_cents"] == 2500 and by["app"]["success_rate"] == 1.0
    assert by["app"]["pending"] == 1 and by["app"]["average_order_cents"] == 2500
    assert by[""]["label"] == "(none)" and by[""]["revenue_cents"] == 600
    amazon = by["amazon"]
    assert (amazon["revenue_cents"], amazon["orders"], amazon["failed"]) == (0, 0, 2)
    assert amazon["success_rate"] == 0.0 and amazon["average_order_cents"] is None
    assert data["total_revenue_cents"] == 7100
    assert by["web"]["revenue_share"] == round(4000 / 7100, 4)


def test_channel_buckets_follow_the_period(app, admin_client):
    load(app)
    data = get(admin_client, RANGE)
    day1, day2 = data["buckets"]
    assert day1["revenue_cents"] == {"web": 1000, "app": 2500, "": 0, "amazon": 0}
    assert day2["revenue_cents"] == {"web": 3000, "app": 0, "": 600, "amazon": 0}
    assert day2["orders"] == {"web": 1, "app": 0, "": 1, "amazon": 0}
    hourly = get(admin_client, "start=2026-04-01T00:00:00Z&end=2026-04-02T00:00:00Z&period=hourly")
    assert len(hourly["buckets"]) == 24
    assert hourly["buckets"][10]["revenue_cents"]["web"] == 1000
    assert hourly["buckets"][12]["revenue_cents"]["app"] == 2500


def test_other_currency_is_never_mixed_in(app, admin_client):
    load(app)
    data = get(admin_client, RANGE + "&currency=eur")
    assert data["currency"] == "EUR"
    assert [(c["channel"], c["revenue_cents"]) for c in data["channels"]] == [("web", 900)]


def test_bad_currency_is_refused(app, admin_client):
    resp = admin_client.get("/admin/api/analytics/channels?currency=dollars")
    assert resp.status_code == 400
    assert "currency" in resp.get_json()["error"]["message"]


def test_whole_week_bucket_counts_only_the_asked_days(app, admin_client):
    load(app)
    # 1-3 April 2026 is Wednesday to Friday: one weekly bucket starting Monday 30 March, but the
    # Sunday 5 April sale of the same week lies outside the asked range and is not counted.
    data = get(admin_client, RANGE.replace("period=daily", "period=weekly"))
    assert [b["start"] for b in data["buckets"]] == ["2026-03-30T00:00:00+00:00"]
    assert data["start"] == "2026-04-01T00:00:00+00:00" and data["end"] == "2026-04-03T00:00:00+00:00"
    assert data["total_revenue_cents"] == 7100
    assert data["buckets"][0]["revenue_cents"]["web"] == 4000


def test_database_outage_serves_the_last_answer_marked_stale(make_app):
    from tests.helpers import ADMIN
    from tests.test_cache_manager import FakeClock
    from tests.test_degradation import DeadDatabase

    clock = FakeClock()
    app = make_app(CACHE_TIMER=clock, DB_BREAKER_FAIL_MAX=2, DB_BREAKER_RESET_TIMEOUT=30)
    load(app)
    admin = app.test_client()
    assert admin.login(*ADMIN).status_code == 302
    fresh = get(admin, RANGE)
    assert fresh["stale"] is False and fresh["total_revenue_cents"] == 7100
    clock.now += 10_000  # expired: the next read needs the database
    with DeadDatabase(app):
        stale = admin.get(f"/admin/api/analytics/channels?{RANGE}")
        assert stale.status_code == 200
        body = stale.get_json()
        assert body["stale"] is True and body["as_of"] and body["total_revenue_cents"] == 7100
        never_asked = admin.get("/admin/api/analytics/customers?" + RANGE)
        assert never_asked.status_code == 503
        assert never_asked.get_json()["error"]["code"] == "database_unavailable"
