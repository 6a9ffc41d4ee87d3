"""compare=previous|week on the revenue series: the overlay's figures are the revenue API's own
answer for the compared range, bucket by bucket, across the 2026-10-25 daylight-saving day."""
from __future__ import annotations

from urllib.parse import urlencode

from tests.helpers import INGEST, transaction

TZ = "Europe/Berlin"


def ingest(client):
    txs = []
    for day in (17, 18, 24, 25):
        for hour in (1, 9, 13):
            for j, cur in enumerate(("EUR", "USD")):
                txs.append(transaction(f"d{day}h{hour}{cur}", 100 * day + hour + j, currency=cur,
                                       at=f"2026-10-{day:02d}T{hour:02d}:30:00Z"))
    assert client.post("/api/v1/events", headers=INGEST, json={"transactions": txs}).status_code == 202


def test_overlays_equal_the_answers_for_the_compared_ranges(app, client, admin_client):
    ingest(client)
    for period, start, end in (("hourly", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),
                               ("daily", "2026-10-24T00:00:00+02:00", "2026-10-26T00:00:00+01:00")):
        for kind in ("previous", "week"):
            q = {"period": period, "start": start, "end": end, "tz": TZ, "currency": "EUR"}
            body = admin_client.get("/admin/api/analytics/revenue?" + urlencode({**q, "compare": kind})).get_json()
            cmp = body["compare"]
            plain = admin_client.get("/admin/api/analytics/revenue?" + urlencode(
                {**q, "start": cmp["start"], "end": cmp["end"]})).get_json()
            assert [b["revenue_cents"] for b in cmp["buckets"]] == [b["revenue_cents"] for b in plain["buckets"]]
            assert [b["orders"] for b in cmp["buckets"]] == [b["completed"] for b in plain["buckets"]]
            assert cmp["total_cents"] == plain["summary"]["total_cents"]
            assert cmp["current_bucket"] is None  # the range is over
            if kind == "week":
                assert cmp["start"].startswith("2026-10-1")
                assert cmp["total_cents"] > 0
    hourly_week = admin_client.get("/admin/api/analytics/revenue?" + urlencode(
        {"period": "hourly", "start": "2026-10-25T00:00:00+02:00", "end": "2026-10-26T00:00:00+01:00", "tz": TZ,
         "currency": "EUR", "compare": "week"})).get_json()["compare"]
    # A week earlier had 24 hours, the 25th had 25: the overlay lists the week-earlier day's own hours.
    assert (hourly_week["start"], len(hourly_week["buckets"])) == ("2026-10-18T00:00:00+02:00", 24)
    bad = admin_client.get("/admin/api/analytics/revenue?compare=year")
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "compare"


def test_the_running_bucket_is_named(app, admin_client):
    body = admin_client.get("/admin/api/analytics/revenue?period=hourly&compare=previous").get_json()
    assert body["compare"]["current_bucket"] == len(body["buckets"]) - 1
