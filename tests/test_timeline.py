"""The shared timeline: every series on the same 15-minute buckets, alert windows, money at risk."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import database
from services.alerts import Alert
from services.monitor import RequestStat
from services.monitor import histogram
from services.ingest import store as ingest
from tests.helpers import transaction

STEP = timedelta(minutes=15)


def floor15(moment: datetime) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp()) // 900 * 900, timezone.utc)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def tx(id_, cents, status, at, currency="USD"):
    return transaction(id_, cents, status=status, currency=currency, at=iso(at))


def hist(*latencies_ms):
    counts: dict[int, int] = {}
    for ms in latencies_ms:
        i = histogram.bucket_index(ms)
        counts[i] = counts.get(i, 0) + 1
    return histogram.to_json(counts)


def seed(app):
    """Bucket A (3 h ago) and B (2 h ago) of the last 24 hours, and one alert over A's neighbour."""
    a = floor15(database.utcnow()) - timedelta(hours=3)
    b = a + timedelta(hours=1)
    transactions = [
        tx("a1", 1000, "completed", a + timedelta(minutes=1)),
        tx("a2", 2000, "completed", a + timedelta(minutes=5)),
        tx("a3", 500, "completed", a + timedelta(minutes=9)),
        tx("a4", 700, "failed", a + timedelta(minutes=10)),
        tx("a5", 999, "completed", a + timedelta(minutes=11), currency="EUR"),
        tx("b1", 4000, "completed", b + timedelta(minutes=2)),
        # The alert window [a+20m, a+50m): 1000 now, and 4000 in the same window a week earlier.
        tx("w1", 1000, "completed", a + timedelta(minutes=30)),
        tx("old1", 4000, "completed", a + timedelta(minutes=30) - timedelta(days=7)),
        tx("old2", 777, "completed", a + timedelta(minutes=55) - timedelta(days=7)),   # after the window
        tx("old3", 300, "failed", a + timedelta(minutes=35) - timedelta(days=7)),      # not revenue
    ]
    with database.session_scope(app) as session:
        ingest.ingest_batch(session, {"transactions": transactions})
        session.add_all([
            # Two processes' rows in two minutes of bucket A: 20 requests, 2 errors, one slow one.
            RequestStat(minute=a + timedelta(minutes=2), endpoint="shop.checkout", method="POST",
                        count=10, errors=1, total_ms=100.0, max_ms=10.0, buckets=hist(*[10.0] * 10)),
            RequestStat(minute=a + timedelta(minutes=7), endpoint="shop.checkout", method="POST",
                        count=10, errors=1, total_ms=590.0, max_ms=500.0,
                        buckets=hist(*[10.0] * 9, 500.0)),
            RequestStat(minute=b + timedelta(minutes=14), endpoint="shop.home", method="GET",
                        count=4, errors=0, total_ms=400.0, max_ms=100.0, buckets=hist(*[100.0] * 4)),
        ])
        now = database.utcnow()
        session.add_all([
            Alert(rule_name="Failed payments", metric="failed_payment_rate", severity="critical",
                  status="resolved", title="Failed payments above 20%", threshold=20.0,
                  started_at=a + timedelta(minutes=20), fired_at=a + timedelta(minutes=20),
                  resolved_at=a + timedelta(minutes=50), last_seen_at=a + timedelta(minutes=50)),
            Alert(rule_name="Slow", metric="p95_response_ms", severity="warning", status="firing",
                  title="p95 above 300 ms", threshold=300.0, started_at=b, fired_at=b, last_seen_at=now),
            Alert(rule_name="Pending only", metric="cpu_percent", severity="info", status="pending",
                  title="not fired yet", threshold=90.0, started_at=b, last_seen_at=now),
            Alert(rule_name="Cleared early", metric="cpu_percent", severity="info", status="resolved",
                  title="cleared before it fired", threshold=90.0, started_at=b, resolved_at=b,
                  last_seen_at=b),
            Alert(rule_name="Long ago", metric="cpu_percent", severity="info", status="resolved",
                  title="over before the timeline", threshold=90.0, started_at=a - timedelta(days=3),
                  fired_at=a - timedelta(days=3), resolved_at=a - timedelta(days=2), last_seen_at=a),
        ])
    return a, b


def get(admin_client, query="hours=24"):
    resp = admin_client.get(f"/admin/api/timeline?{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_series_share_the_same_fifteen_minute_buckets(app, admin_client):
    a, b = seed(app)
    data = get(admin_client)
    buckets = data["buckets"]
    assert len(buckets) == 96 and data["step_seconds"] == 900
    starts = [datetime.fromisoformat(x["start"]) for x in buckets]
    assert all(later - earlier == STEP for earlier, later in zip(starts, starts[1:]))
    assert starts[-1] <= database.utcnow() < starts[-1] + STEP
    by_start = {s: x for s, x in zip(starts, buckets)}
    bucket_a, bucket_b = by_start[a], by_start[b]
    assert data["currency"] == "USD"  # more USD than EUR revenue in the range
    assert bucket_a["revenue_cents"] == 3500
    assert bucket_a["payments"] == 5 and bucket_a["failed_payment_rate"] == 0.2
    assert bucket_a["requests"] == 20 and bucket_a["error_rate"] == 0.1
    # p95 of 19 × 10 ms and 1 × 500 ms is 10 ms (within the histogram's bucket width).
    assert 10 * (1 - histogram.MAX_RELATIVE_ERROR) <= bucket_a["p95_ms"] <= 10 * (1 + histogram.MAX_RELATIVE_ERROR)
    assert bucket_b["revenue_cents"] == 4000 and bucket_b["failed_payment_rate"] == 0.0
    assert bucket_b["requests"] == 4 and bucket_b["error_rate"] == 0.0
    assert 90 <= bucket_b["p95_ms"] <= 100
    empty = by_start[a - timedelta(hours=1)]
    assert (empty["revenue_cents"], empty["requests"]) == (0, 0)
    assert empty["failed_payment_rate"] is None and empty["error_rate"] is None and empty["p95_ms"] is None
    eur = get(admin_client, "hours=24&currency=EUR")
    assert {datetime.fromisoformat(x["start"]): x["revenue_cents"] for x in eur["buckets"]}[a] == 999


def test_alert_windows_carry_money_at_risk(app, admin_client):
    a, b = seed(app)
    alerts = get(admin_client)["alerts"]
    assert [x["title"] for x in alerts] == ["Failed payments above 20%", "p95 above 300 ms"]
    closed, open_ = alerts
    assert datetime.fromisoformat(closed["started_at"]) == a + timedelta(minutes=20)
    assert datetime.fromisoformat(closed["ended_at"]) == a + timedelta(minutes=50)
    assert closed["open"] is False
    assert closed["money_at_risk"] == [{"currency": "USD", "during_cents": 1000, "week_before_cents": 4000,
                                        "difference_cents": -3000, "change": -0.75}]
    assert open_["open"] is True
    assert datetime.fromisoformat(open_["ended_at"]) >= b
    # Open since b: b1 (4000 USD) is inside; nothing in the same window a week ago.
    usd = {m["currency"]: m for m in open_["money_at_risk"]}["USD"]
    assert (usd["during_cents"], usd["week_before_cents"], usd["change"]) == (4000, 0, None)


def test_time_zone_labels_and_bad_parameters(app, admin_client):
    data = get(admin_client, "hours=1&tz=Asia/Kolkata")
    assert len(data["buckets"]) == 4
    assert data["buckets"][0]["start"].endswith("+05:30")
    for query in ("hours=0", "hours=1000", "hours=x", "tz=Nowhere/Land", "currency=12"):
        assert admin_client.get(f"/admin/api/timeline?{query}").status_code == 400, query
