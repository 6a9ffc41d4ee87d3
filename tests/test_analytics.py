"""Revenue buckets and summaries in the admin's time zone, against hand-computed figures."""
from __future__ import annotations

from datetime import datetime

import pytest

import database
from services.ingest import store as ingest
from tests.helpers import transaction

REVENUE = "/admin/api/analytics/revenue"


def tx(tid, created_at, amount, status="completed", currency="EUR", channel="web"):
    return transaction(tid, amount, status=status, currency=currency, at=created_at, channel=channel)


def ingest_all(app, transactions=(), activities=()):
    """Store through the real ingest path (rollups updated in the same transaction)."""
    with app.app_context():
        ingest.ingest_batch(database.get_session(), {"transactions": list(transactions),
                                                     "activities": list(activities)})


# Europe/Berlin, spring forward on Sunday 2026-03-29: 02:00 CET -> 03:00 CEST (01:00 UTC).
# The day runs from 2026-03-28T23:00Z to 2026-03-29T22:00Z: 23 hours.
MARCH = [
    tx("a", "2026-03-28T22:59:00Z", 1000),                     # Sat 23:59 CET
    tx("b", "2026-03-28T23:00:00Z", 2000, channel="app"),      # Sun 00:00 CET
    tx("c", "2026-03-29T21:59:00Z", 3000),                     # Sun 23:59 CEST
    tx("d", "2026-03-29T22:00:00Z", 500, status="failed"),     # Mon 00:00 CEST
    tx("e", "2026-03-29T01:30:00Z", 700, status="pending"),    # Sun 03:30 CEST
    tx("u1", "2026-03-29T12:00:00Z", 4000, currency="USD"),    # never added to EUR
    tx("p1", "2026-03-26T12:00:00Z", 3000),                    # the previous range
    tx("old", "2026-03-24T23:00:00Z", 100000),                 # before the previous range
]


@pytest.fixture
def march(app):
    ingest_all(app, MARCH)
    return app


def test_daily_buckets_across_spring_forward(march, admin_client):
    resp = admin_client.get(REVENUE, query_string={
        "period": "daily", "tz": "Europe/Berlin",
        "start": "2026-03-28T00:00:00+01:00", "end": "2026-03-31T00:00:00+02:00"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["currency"] == "EUR"
    assert body["other_currencies"] == ["USD"]
    assert body["stale"] is False
    assert [b["start"] for b in body["buckets"]] == [
        "2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"]
    got = [(b["revenue_cents"], b["transactions"], b["completed"], b["pending"], b["failed"])
           for b in body["buckets"]]
    assert got == [(1000, 1, 1, 0, 0), (5000, 3, 2, 1, 0), (0, 1, 0, 0, 1)]
    s = body["summary"]
    assert s["total_cents"] == 6000
    assert s["average_cents"] == 2000
    assert s["peak"] == {"start": "2026-03-29T00:00:00+01:00", "revenue_cents": 5000}
    assert s["transactions"] == 5
    assert s["average_transaction_cents"] == 2000
    assert s["success_rate"] == 0.75
    # Previous 71 hours: 2026-03-25T00:00Z .. 2026-03-27T23:00Z hold p1 (3000) only.
    assert s["previous_total_cents"] == 3000
    assert s["growth_rate"] == 1.0


def test_other_currency_alone(march, admin_client):
    body = admin_client.get(REVENUE, query_string={
        "period": "daily", "tz": "Europe/Berlin", "currency": "usd",
        "start": "2026-03-28T00:00:00+01:00", "end": "2026-03-31T00:00:00+02:00"}).get_json()
    assert body["currency"] == "USD"
    assert body["other_currencies"] == ["EUR"]
    assert [b["revenue_cents"] for b in body["buckets"]] == [0, 4000, 0]
    assert body["summary"]["total_cents"] == 4000
    assert body["summary"]["growth_rate"] is None  # nothing in USD before: no rate


def test_hourly_buckets_on_the_23_hour_day(march, admin_client):
    body = admin_client.get(REVENUE, query_string={
        "period": "hourly", "tz": "Europe/Berlin",
        "start": "2026-03-29T00:00:00+01:00", "end": "2026-03-30T00:00:00+02:00"}).get_json()
    starts = [b["start"] for b in body["buckets"]]
    assert len(starts) == 23
    assert starts[:3] == ["2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00",
                          "2026-03-29T03:00:00+02:00"]
    by_start = {b["start"]: b for b in body["buckets"]}
    assert by_start["2026-03-29T00:00:00+01:00"]["revenue_cents"] == 2000
    assert by_start["2026-03-29T03:00:00+02:00"]["pending"] == 1
    assert by_start["2026-03-29T23:00:00+02:00"]["revenue_cents"] == 3000
    # Empty hours are there, with zeros.
    assert by_start["2026-03-29T10:00:00+02:00"] == {
        "start": "2026-03-29T10:00:00+02:00", "revenue_cents": 0, "transactions": 0,
        "completed": 0, "pending": 0, "failed": 0, "refunded": 0}
    assert body["summary"]["peak"] == {"start": "2026-03-29T23:00:00+02:00", "revenue_cents": 3000}


def test_weekly_buckets_start_on_monday(march, admin_client):
    body = admin_client.get(REVENUE, query_string={
        "period": "weekly", "tz": "Europe/Berlin",
        "start": "2026-03-25T12:00:00+01:00", "end": "2026-04-06T00:00:00+02:00"}).get_json()
    assert [b["start"] for b in body["buckets"]] == [
        "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"]
    # The first bucket is labelled Monday 23rd, but data counts from the asked start
    # (Wed 25th 12:00), so "old" (Wed 25th 00:00 CET) is left out.
    assert [b["revenue_cents"] for b in body["buckets"]] == [3000 + 1000 + 2000 + 3000, 0]
    assert body["start"] == "2026-03-25T12:00:00+01:00"
    assert [b["failed"] for b in body["buckets"]] == [0, 1]


def test_fall_back_day_is_one_bucket_of_25_hours(app, admin_client):
    # 2026-10-25: 03:00 CEST -> 02:00 CET; the day runs 2026-10-24T22:00Z .. 2026-10-25T23:00Z.
    ingest_all(app, [
        tx("o1", "2026-10-24T22:00:00Z", 100),    # 00:00 CEST
        tx("o2", "2026-10-25T00:30:00Z", 200),    # 02:30 CEST
        tx("o3", "2026-10-25T01:30:00Z", 300),    # 02:30 CET, the repeated hour
        tx("o4", "2026-10-25T22:59:00Z", 400),    # 23:59 CET
        tx("o5", "2026-10-25T23:00:00Z", 50000),  # the next day
        tx("o6", "2026-10-24T21:59:00Z", 60000),  # the day before
    ])
    q = {"tz": "Europe/Berlin", "start": "2026-10-25T00:00:00+02:00",
         "end": "2026-10-26T00:00:00+01:00"}
    daily = admin_client.get(REVENUE, query_string={**q, "period": "daily"}).get_json()
    assert [(b["start"], b["revenue_cents"], b["transactions"]) for b in daily["buckets"]] == [
        ("2026-10-25T00:00:00+02:00", 1000, 4)]
    hourly = admin_client.get(REVENUE, query_string={**q, "period": "hourly"}).get_json()
    assert len(hourly["buckets"]) == 25
    twos = [(b["start"], b["revenue_cents"]) for b in hourly["buckets"] if "T02:00" in b["start"]]
    assert twos == [("2026-10-25T02:00:00+02:00", 200), ("2026-10-25T02:00:00+01:00", 300)]
    # The previous 25 hours hold only o6 (60000): growth is (1000 - 60000) / 60000.
    assert daily["summary"]["growth_rate"] == round((1000 - 60000) / 60000, 4)


def test_no_data_gives_zero_buckets(app, admin_client):
    body = admin_client.get(REVENUE, query_string={
        "period": "daily", "start": "2026-01-01T00:00:00Z", "end": "2026-01-04T00:00:00Z"}).get_json()
    assert body["currency"] is None and body["other_currencies"] == []
    assert [b["revenue_cents"] for b in body["buckets"]] == [0, 0, 0]
    assert body["summary"]["total_cents"] == 0 and body["summary"]["peak"] is None
    assert body["summary"]["success_rate"] is None


def test_default_range_ends_now(app, admin_client):
    body = admin_client.get(REVENUE, query_string={"period": "hourly"}).get_json()
    assert len(body["buckets"]) in (24, 25)  # 24 hours back, widened to whole hours
    assert body["tz"] == "UTC" and body["period"] == "hourly"


@pytest.mark.parametrize("query, fragment", [
    ({"period": "monthly"}, "period"),
    ({"tz": "Mars/Olympus"}, "time zone"),
    ({"start": "yesterday"}, "start"),
    ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "after"),
    ({"currency": "EURO"}, "currency"),
    ({"period": "hourly", "start": "2020-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "buckets"),
])
def test_bad_parameters_answer_400_json(app, admin_client, query, fragment):
    resp = admin_client.get(REVENUE, query_string=query)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_parameter" and fragment in error["message"]


def test_revenue_needs_a_login(client):
    assert client.get(REVENUE).status_code == 401


def test_half_hour_zone_splits_utc_hours(app, admin_client):
    # Asia/Kolkata is UTC+05:30: local hours start at half past the UTC hour.
    ingest_all(app, [tx("k1", "2026-04-01T10:20:00Z", 100),   # 15:50 IST
                     tx("k2", "2026-04-01T10:40:00Z", 200),   # 16:10 IST
                     tx("k3", "2026-04-01T11:29:00Z", 400)])  # 16:59 IST
    body = admin_client.get(REVENUE, query_string={
        "period": "hourly", "tz": "Asia/Kolkata",
        "start": "2026-04-01T15:00:00+05:30", "end": "2026-04-01T18:00:00+05:30"}).get_json()
    assert [(b["start"], b["revenue_cents"]) for b in body["buckets"]] == [
        ("2026-04-01T15:00:00+05:30", 100), ("2026-04-01T16:00:00+05:30", 600),
        ("2026-04-01T17:00:00+05:30", 0)]


def test_data_stops_at_the_asked_end_to_the_quarter_hour(app, admin_client):
    # "Yesterday until this time": the chart keeps whole hours, the figures stop at the end.
    ingest_all(app, [tx("q1", "2026-06-01T10:05:00Z", 100),
                     tx("q2", "2026-06-01T10:14:00Z", 200),
                     tx("q3", "2026-06-01T10:20:00Z", 400),   # after the end's quarter hour
                     tx("q4", "2026-06-01T09:59:00Z", 800)])  # before the start
    body = admin_client.get(REVENUE, query_string={
        "period": "hourly", "start": "2026-06-01T10:00:00Z", "end": "2026-06-01T10:12:00Z"}).get_json()
    assert [(b["start"], b["revenue_cents"]) for b in body["buckets"]] == [
        ("2026-06-01T10:00:00+00:00", 300)]
    assert (body["start"], body["end"]) == ("2026-06-01T10:00:00+00:00", "2026-06-01T10:15:00+00:00")
    # The previous range has the same 15 minutes: 09:45 .. 10:00 holds q4.
    assert body["summary"]["previous_total_cents"] == 800


# -- orders and currencies: what the Overview's "today" cards read -------------------------------

NOW = "2025-11-07T14:05:00+00:00"              # 15:05 in Berlin
TODAY = "2025-11-07T00:00:00+01:00"            # Berlin midnight
YESTERDAY, SAME_TIME_YESTERDAY = "2025-11-06T00:00:00+01:00", "2025-11-06T14:05:00+00:00"


def _many(prefix, n, at, amount, status, currency):
    return [tx(f"{prefix}{i}", at, amount, status=status, currency=currency) for i in range(n)]


# Today, by hand: USD 1000 + 2500 + 4000 = 7500 from 3 orders; GBP 5000 from 1; EUR 2000 + 1200 =
# 3200 from 2. Pending, failed (400 of them) and refunded payments are no orders and no revenue.
TODAY_SET = [
    tx("u-c1", "2025-11-07T08:00:00Z", 1000, currency="USD"),
    tx("u-c2", "2025-11-07T09:30:00Z", 2500, currency="USD"),
    tx("u-c3", "2025-11-07T13:59:00Z", 4000, currency="USD"),
    *_many("u-p", 2, "2025-11-07T10:00:00Z", 900, "pending", "USD"),
    *_many("u-f", 400, "2025-11-07T11:00:00Z", 1500, "failed", "USD"),
    tx("u-r1", "2025-11-07T12:00:00Z", 3000, status="refunded", currency="USD"),
    tx("g-c1", "2025-11-07T07:00:00Z", 5000, currency="GBP"),
    tx("e-c1", "2025-11-06T23:30:00Z", 2000),       # 00:30 in Berlin: today
    tx("e-c2", "2025-11-07T12:10:00Z", 1200),
    *_many("e-f", 5, "2025-11-07T12:20:00Z", 700, "failed", "EUR"),
    tx("e-r1", "2025-11-07T12:30:00Z", 800, status="refunded"),
]
# Yesterday until the same time: USD 3000 + 3000 from 2 orders, EUR 1000 from 1; later that day
# (not the same span) a large USD order that must not count.
YESTERDAY_SET = [
    tx("y-u1", "2025-11-06T06:00:00Z", 3000, currency="USD"),
    tx("y-u2", "2025-11-06T10:00:00Z", 3000, currency="USD"),
    *_many("y-f", 10, "2025-11-06T10:00:00Z", 1500, "failed", "USD"),
    tx("y-e1", "2025-11-05T23:10:00Z", 1000),
    tx("y-late", "2025-11-06T18:00:00Z", 99999, currency="USD"),
]


@pytest.fixture
def overview_day(app, monkeypatch):
    ingest_all(app, TODAY_SET + YESTERDAY_SET)
    monkeypatch.setattr(database, "utcnow", lambda: datetime.fromisoformat(NOW))
    return app


def _overview(client, start, end, currency=None):
    query = {"period": "hourly", "tz": "Europe/Berlin", "start": start, "end": end}
    if currency:
        query["currency"] = currency
    resp = client.get(REVENUE, query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_orders_are_completed_payments_and_currencies_stay_apart(overview_day, admin_client):
    today = _overview(admin_client, TODAY, NOW)
    assert today["currency"] == "USD"                      # the most revenue today
    assert today["currencies"] == [
        {"currency": "USD", "revenue_cents": 7500, "orders": 3},
        {"currency": "GBP", "revenue_cents": 5000, "orders": 1},
        {"currency": "EUR", "revenue_cents": 3200, "orders": 2}]
    s = today["summary"]
    assert (s["total_cents"], s["orders"], s["transactions"]) == (7500, 3, 3 + 2 + 400 + 1)
    assert s["average_transaction_cents"] == 2500           # revenue per order
    # "Orders today" adds the counts of every currency: 400 failed payments add nothing.
    assert sum(c["orders"] for c in today["currencies"]) == 6

    euros = _overview(admin_client, TODAY, NOW, "EUR")
    assert (euros["currency"], euros["summary"]["total_cents"], euros["summary"]["orders"]) == ("EUR", 3200, 2)
    assert euros["other_currencies"] == ["USD", "GBP"]

    before = _overview(admin_client, YESTERDAY, SAME_TIME_YESTERDAY, "USD")
    assert (before["summary"]["total_cents"], before["summary"]["orders"]) == (6000, 2)
    assert sum(c["orders"] for c in before["currencies"]) == 3


def test_growth_of_a_range_ending_today_compares_the_same_length_before(app, admin_client, monkeypatch):
    # The page asks Nov 1 .. Nov 7 on Nov 7 at 14:05: counted up to 14:15 (the rollup edge),
    # so the previous range is the 6 days 14 h 15 min before Nov 1, not the whole week before.
    ingest_all(app, [tx("now1", "2025-11-03T12:00:00Z", 10000),
                     tx("prev1", "2025-10-28T12:00:00Z", 8000),
                     tx("prev-early", "2025-10-25T05:00:00Z", 50000)])   # before 10-25 09:45
    monkeypatch.setattr(database, "utcnow", lambda: datetime.fromisoformat(NOW))
    for end in ("2025-11-08T00:00:00Z", NOW):                # tomorrow's midnight, or now
        body = admin_client.get(REVENUE, query_string={
            "period": "daily", "start": "2025-11-01T00:00:00Z", "end": end}).get_json()
        assert len(body["buckets"]) == 7                     # the chart keeps whole days
        assert body["end"] == "2025-11-07T14:15:00+00:00"
        s = body["summary"]
        assert (s["previous_start"], s["previous_end"]) == ("2025-10-25T09:45:00+00:00",
                                                            "2025-11-01T00:00:00+00:00")
        assert (s["total_cents"], s["previous_total_cents"]) == (10000, 8000)
        assert s["growth_rate"] == 0.25
