"""Customer figures against hand-computed expectations on a small ingested set."""
from __future__ import annotations

from sqlalchemy import delete

import database
from services.ingest import CustomerFirstSeen
from services.ingest import first_seen
from services.ingest import store as ingest
from tests.helpers import transaction

# Range under test: 2026-03-10 and 2026-03-11 (UTC), daily buckets.
RANGE = "start=2026-03-10T00:00:00Z&end=2026-03-12T00:00:00Z&period=daily&tz=UTC"


def tx(id_, cents, currency, status, customer, at, channel=None):
    return transaction(id_, cents, status=status, currency=currency, at=at, customer_id=customer,
                       channel=channel or None)


TRANSACTIONS = [
    tx("a0", 1000, "USD", "completed", "alice", "2026-03-05T12:00:00Z"),  # before the range
    tx("a1", 2000, "USD", "completed", "alice", "2026-03-10T10:00:00Z"),
    tx("a2", 500, "EUR", "completed", "alice", "2026-03-11T09:00:00Z"),   # a second currency
    tx("b1", 3000, "USD", "completed", "bob", "2026-03-10T12:00:00Z"),    # bob's first ever
    tx("b2", 700, "USD", "failed", "bob", "2026-03-11T13:00:00Z"),
    tx("c1", 400, "USD", "pending", "carol", "2026-03-11T08:00:00Z"),     # never paid
    tx("d1", 9999, "USD", "completed", "dave", "2026-03-12T01:00:00Z"),   # after the range
    tx("e1", 800, "EUR", "completed", "erin", "2026-03-10T15:00:00Z"),
    tx("e2", 1200, "EUR", "completed", "erin", "2026-03-10T16:00:00Z"),
]
ACTIVITIES = [
    {"user_id": "alice", "action": "login", "created_at": "2026-03-10T09:00:00Z"},
    {"user_id": "alice", "action": "view", "created_at": "2026-03-11T09:00:00Z"},
    {"user_id": "bob", "action": "view", "created_at": "2026-03-11T12:00:00Z"},
    {"user_id": "carol", "action": "view", "created_at": "2026-03-11T07:00:00Z"},
    {"user_id": "frank", "action": "view", "created_at": "2026-03-10T20:00:00Z"},
    {"user_id": "erin", "action": "view", "created_at": "2026-03-09T20:00:00Z"},  # before the range
]


def load(app):
    with database.session_scope(app) as session:
        ingest.ingest_batch(session, {"transactions": TRANSACTIONS, "activities": ACTIVITIES})


def get(admin_client, query):
    resp = admin_client.get(f"/admin/api/analytics/customers?{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_new_and_returning_per_bucket_use_the_first_transaction_ever(app, admin_client):
    load(app)
    data = get(admin_client, RANGE)
    assert [b["start"] for b in data["buckets"]] == ["2026-03-10T00:00:00+00:00", "2026-03-11T00:00:00+00:00"]
    # 10th: alice (seen on the 5th: returning), bob and erin (first ever: new).
    # 11th: carol new; alice and bob returning (bob was new the day before, inside the range).
    assert [(b["customers"], b["new"], b["returning"]) for b in data["buckets"]] == [(3, 2, 1), (3, 1, 2)]
    s = data["summary"]
    assert (s["customers"], s["new_customers"], s["returning_customers"]) == (4, 3, 1)


def test_range_boundary_makes_a_customer_returning(app, admin_client):
    load(app)
    data = get(admin_client, "start=2026-03-11T00:00:00Z&end=2026-03-12T00:00:00Z&period=daily")
    assert [(b["customers"], b["new"], b["returning"]) for b in data["buckets"]] == [(3, 1, 2)]
    assert (data["summary"]["new_customers"], data["summary"]["returning_customers"]) == (1, 2)


def test_repeat_rate_orders_and_value_per_currency(app, admin_client):
    load(app)
    data = get(admin_client, RANGE)
    s = data["summary"]
    # Paying: alice (2 completed, in two currencies), bob (1), erin (2); carol only pending.
    assert (s["paying_customers"], s["repeat_customers"], s["orders"]) == (3, 2, 5)
    assert s["repeat_purchase_rate"] == round(2 / 3, 4)
    assert s["orders_per_customer"] == round(5 / 3, 4)
    usd, eur = data["value"]
    assert usd == {"currency": "USD", "paying_customers": 2, "revenue_cents": 5000, "mean_cents": 2500,
                   "median_cents": 2500,
                   "top_customers": [{"customer_id": "bob", "revenue_cents": 3000, "orders": 1},
                                     {"customer_id": "alice", "revenue_cents": 2000, "orders": 1}]}
    assert eur["currency"] == "EUR" and eur["revenue_cents"] == 2500
    assert (eur["mean_cents"], eur["median_cents"]) == (1250, 1250)
    assert [c["customer_id"] for c in eur["top_customers"]] == ["erin", "alice"]


def test_conversion_counts_active_users_who_completed_a_purchase(app, admin_client):
    load(app)
    conv = get(admin_client, RANGE)["conversion"]
    # Active in range: alice, bob, carol, frank (erin's activity is before the range).
    # Completed in range among them: alice, bob. Carol's order is only pending.
    assert (conv["active_users"], conv["converted_users"], conv["rate"]) == (4, 2, 0.5)
    assert conv["buyers_without_activity"] == 1  # erin bought without recorded activity in range
    assert "divided by distinct users with any activity" in conv["definition"]


def test_local_days_follow_the_time_zone(app, admin_client):
    load(app)
    # New York is UTC-4 on these days: its 10th runs 04:00Z..04:00Z and holds alice, bob and erin;
    # alice's 09:00Z buy on the 11th falls on the local 11th.
    data = get(admin_client, "start=2026-03-10T04:00:00Z&end=2026-03-11T04:00:00Z&period=daily"
                             "&tz=America/New_York")
    assert [b["start"] for b in data["buckets"]] == ["2026-03-10T00:00:00-04:00"]
    assert data["buckets"][0]["customers"] == 3


def test_empty_range_and_bad_parameters(app, admin_client):
    data = get(admin_client, RANGE)
    assert data["summary"]["customers"] == 0 and data["value"] == []
    assert data["summary"]["repeat_purchase_rate"] is None
    assert data["conversion"]["rate"] is None
    for query in ("period=monthly", "tz=Mars/Olympus", "start=2026-03-12T00:00:00Z&end=2026-03-10T00:00:00Z",
                  "start=yesterday", "period=hourly&start=2020-01-01T00:00:00Z&end=2026-01-01T00:00:00Z"):
        resp = admin_client.get(f"/admin/api/analytics/customers?{query}")
        assert resp.status_code == 400, query
        assert resp.get_json()["error"]["code"] == "invalid_parameter"


def test_needs_a_login(client):
    assert client.get("/admin/api/analytics/customers").status_code == 401


def test_a_first_transaction_moved_later_makes_the_customer_new_later(app, admin_client):
    load(app)
    # alice's only transaction before the range is re-sent with a time inside it, and bob's first
    # goes to another customer: both customers' first-seen times follow the stored transactions.
    with database.session_scope(app) as session:
        ingest.ingest_batch(session, {"transactions": [
            {**TRANSACTIONS[0], "created_at": "2026-03-11T20:00:00Z"},
            {**TRANSACTIONS[3], "customer_id": "zed"}]})
    data = get(admin_client, RANGE)
    # 10th: alice, erin and zed are new (bob is no longer active that day); 11th: alice returns,
    # carol is new and bob, whose first transaction is now the failed one of the 11th, is new.
    assert [(b["customers"], b["new"], b["returning"]) for b in data["buckets"]] == [(3, 3, 0), (3, 2, 1)]
    assert data["summary"]["new_customers"] == 5 and data["summary"]["returning_customers"] == 0


def test_first_seen_times_are_filled_at_start_for_older_databases(app, make_app, admin_client):
    load(app)
    with database.session_scope(app) as session:
        session.execute(delete(CustomerFirstSeen))  # as a database from before the table existed
    restarted = make_app()
    with database.session_scope(restarted) as session:
        assert first_seen.current(session) == first_seen.recompute(session)
        assert len(first_seen.current(session)) == 5  # alice, bob, carol, dave, erin
    data = get(admin_client, RANGE)
    assert [(b["customers"], b["new"], b["returning"]) for b in data["buckets"]] == [(3, 2, 1), (3, 1, 2)]
