"""Drill-down: the rows behind each figure add up to the figure, on a hand-made shop across the
2026-10-25 daylight-saving day in Europe/Berlin (a 25-hour day) with two currencies."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import database
from services.monitor import RequestStat
from tests.helpers import INGEST, activity, transaction

TZ = "Europe/Berlin"
DAY = {"start": "2026-10-25T00:00:00+02:00", "end": "2026-10-26T00:00:00+01:00", "tz": TZ}
# UTC times: 00:10 and 01:10 UTC are both 02:10 local (the doubled hour), 22:30 on the 24th is
# 00:30 local on the 25th, 23:20 on the 25th is 00:20 local on the 26th (outside the day).
TIMES = ["2026-10-24T21:50:00Z", "2026-10-24T22:30:00Z", "2026-10-25T00:10:00Z", "2026-10-25T00:40:00Z",
         "2026-10-25T01:10:00Z", "2026-10-25T01:59:00Z", "2026-10-25T09:00:00Z", "2026-10-25T22:59:00Z",
         "2026-10-25T23:20:00Z"]
STATUSES = ["completed", "completed", "failed", "completed", "pending", "refunded"]
CHANNELS = ["web", "app", None]


def shop(client):
    txs, acts = [], []
    for i, at in enumerate(TIMES):
        for j in range(4):
            txs.append(transaction(f"t{i}-{j}", 1000 * (i + 1) + 37 * j, currency=("EUR", "USD")[j % 2],
                                   status=STATUSES[(i + j) % len(STATUSES)], at=at,
                                   channel=CHANNELS[(i * 4 + j) % 3], customer_id=f"c{j}"))
        acts += [activity(f"u{k}", "view", at=at) for k in range(i % 3 + 1)]
    resp = client.post("/api/v1/events", headers=INGEST, json={"transactions": txs, "activities": acts})
    assert resp.status_code == 202, resp.get_json()
    return txs


def rows(admin_client, kind, **params):
    """Every row of a drill-down, walking the cursor pages (small pages, so paging is exercised)."""
    out, cursor, totals = [], None, None
    while True:
        resp = admin_client.get(f"/admin/api/explore/{kind}?" + urlencode({**params, "limit": 3, "cursor": cursor or ""}))
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        out += body["rows"]
        totals = totals or body["totals"]
        cursor = body["next_cursor"]
        if not cursor:
            return out, totals


def test_each_revenue_bar_and_status_count_is_its_rows(app, client, admin_client):
    shop(client)
    for period in ("hourly", "daily"):
        for currency in ("EUR", "USD"):
            body = admin_client.get("/admin/api/analytics/revenue?" + urlencode(
                {**DAY, "period": period, "currency": currency})).get_json()
            if period == "hourly":
                assert len(body["buckets"]) == 25  # the 25 real hours of the day
            checked = 0
            for bucket in body["buckets"]:
                q = {**DAY, "period": period, "bucket": bucket["start"], "currency": currency}
                done, _ = rows(admin_client, "transactions", **q, status="completed")
                assert sum(r["amount_cents"] for r in done) == bucket["revenue_cents"], bucket
                assert len(done) == bucket["completed"]
                for status in ("failed", "pending", "refunded"):
                    assert len(rows(admin_client, "transactions", **q, status=status)[0]) == bucket[status]
                checked += bool(bucket["transactions"])
            assert checked == (5 if period == "hourly" else 1)  # both 02:00 hours among them
            every, totals = rows(admin_client, "transactions", **DAY, period=period, currency=currency)
            assert totals["count"] == len(every) == body["summary"]["transactions"]
            assert {r["currency"] for r in every} == {currency}


def test_each_channel_is_its_rows(app, client, admin_client):
    shop(client)
    for currency in ("EUR", "USD"):
        body = admin_client.get("/admin/api/analytics/channels?" + urlencode(
            {**DAY, "period": "daily", "currency": currency})).get_json()
        assert len(body["channels"]) == 3
        for ch in body["channels"]:
            done, totals = rows(admin_client, "transactions", **DAY, period="daily", currency=currency,
                                channel=ch["label"], status="completed")
            assert sum(r["amount_cents"] for r in done) == ch["revenue_cents"]
            assert len(done) == ch["orders"] == totals["count"]


def test_each_heatmap_cell_is_its_rows_on_the_doubled_hour(app, client, admin_client):
    shop(client)
    body = admin_client.get(f"/admin/api/user-activity?tz={TZ}&heatmap_days=90").get_json()
    end = datetime.now(timezone.utc).isoformat()
    cells = [(d, h) for d in range(7) for h in range(24) if body["heatmap"][d][h]]
    assert (6, 2) in cells and body["heatmap"][6][2] == 3 + 1 + 2 + 3  # four times in the doubled hour
    for weekday in range(7):
        for hour in range(24):
            found, totals = rows(admin_client, "activities", start=body["heatmap_since"], end=end, tz=TZ,
                                 weekday=weekday, hour=hour)
            assert len(found) == totals["count"] == body["heatmap"][weekday][hour], (weekday, hour)


def test_endpoint_rows_add_up_to_the_performance_table(app, admin_client):
    now = database.utcnow().replace(second=0, microsecond=0)
    with database.session_scope(app) as s:
        for i in range(6):
            for ep, n in (("pages.revenue", 3 + i), ("api.analytics_revenue", 7)):
                s.add(RequestStat(minute=now - timedelta(minutes=i * 5), endpoint=ep, method="GET", label="page",
                                  count=n, errors=i % 2, total_ms=10.0 * n, max_ms=40.0, db_queries=0, db_ms=0.0,
                                  buckets={}))
    perf = admin_client.get("/admin/api/performance?minutes=20").get_json()
    row = next(e for e in perf["endpoints"] if e["endpoint"] == "pages.revenue")
    found, totals = rows(admin_client, "requests", start=perf["since"], endpoint="pages.revenue", method="GET",
                         end=(now + timedelta(minutes=1)).isoformat())
    assert sum(r["count"] for r in found) == totals["requests"] == row["count"]
    assert {r["endpoint"] for r in found} == {"pages.revenue"}


def test_logs_of_an_alert_window_and_refusals(app, client, admin_client):
    lines = [{"service": "pay", "level": lvl, "message": f"m{i}", "created_at": f"2026-10-25T01:{i:02d}:00Z"}
             for i, lvl in enumerate(["info", "error", "critical", "warning", "error"])]
    assert client.post("/api/v1/events", headers=INGEST, json={"logs": lines}).status_code == 202
    found, _ = rows(admin_client, "logs", start="2026-10-25T01:01:00Z", end="2026-10-25T01:04:00Z", level="error")
    assert [r["message"] for r in found] == ["m2", "m1"]
    for query, field in (({"period": "daily", "bucket": "2026-10-25T05:00:00Z", **DAY}, "bucket"),
                         ({"status": "lost"}, "status"), ({"currency": "EURO"}, "currency"),
                         ({"tz": "Mars/Base"}, "tz"), ({"weekday": "7", "hour": "1"}, "weekday"),
                         ({"cursor": "zzz"}, "cursor"), ({"start": "2026-10-26T00:00:00Z", "end": "2026-10-25T00:00:00Z"}, "end")):
        resp = admin_client.get("/admin/api/explore/transactions?" + urlencode(query))
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field, (query, resp.get_json())
    assert admin_client.get("/admin/api/explore/nothing").status_code == 404
    # A malformed filter is refused on every kind, also where it would not narrow the rows.
    for kind, query, field in (("activities", {"currency": "\u00a4"}, "currency"),
                               ("requests", {"status": "lost"}, "status"),
                               ("transactions", {"level": "loud"}, "level")):
        resp = admin_client.get(f"/admin/api/explore/{kind}?" + urlencode(query))
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field, (kind, resp.get_json())


def test_export_with_the_drill_down_filters_holds_exactly_its_rows(app, client, admin_client):
    import csv
    import io

    shop(client)
    query = {**DAY, "period": "hourly", "bucket": "2026-10-25T02:00:00+01:00", "currency": "USD",
             "status": "completed,failed"}
    found, _ = rows(admin_client, "transactions", **query)
    assert found
    made = admin_client.api("POST", "/admin/api/export", json={"data_type": "transactions", "format": "csv",
                                                                "filters": query})
    assert made.status_code == 200, made.get_json()
    file = admin_client.get(made.get_json()["url"]).get_data(as_text=True)
    exported = list(csv.DictReader(io.StringIO(file.lstrip("\ufeff"))))
    assert sorted(r["id"] for r in exported) == sorted(r["id"] for r in found)
    bad = admin_client.api("POST", "/admin/api/export", json={"data_type": "transactions", "format": "csv",
                                                               "filters": {"status": "lost"}})
    assert bad.status_code == 400 and "status" in bad.get_json()["error"]["message"]


def test_the_last_hours_status_slices_are_their_rows(app, client, admin_client):
    now = datetime.now(timezone.utc)
    txs = [transaction(f"h{i}", 100 + i, currency=("EUR", "USD")[i % 2], status=STATUSES[i % len(STATUSES)],
                       at=(now - timedelta(minutes=5 + 4 * i)).isoformat()) for i in range(12)]
    txs.append(transaction("old", 5, at=(now - timedelta(minutes=90)).isoformat()))
    assert client.post("/api/v1/events", headers=INGEST, json={"transactions": txs}).status_code == 202
    counts = admin_client.get("/admin/api/analytics/transactions?minutes=60").get_json()["counts"]
    for status in ("completed", "pending", "failed", "refunded"):
        found, totals = rows(admin_client, "transactions", minutes=60, status=status)
        assert len(found) == totals["count"] == counts[status] > 0, status
        assert "old" not in {r["id"] for r in found}
