"""Exports: every data type in every format, checked against what was ingested."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import openpyxl
import pandas
import pytest

import database
from services.alerts import Alert
from services.monitor import RequestStat, SystemMetric
from tests.helpers import INGEST

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=timezone.utc)
START, END = "2026-11-01T00:00:00+00:00", "2026-11-21T00:00:00+00:00"

TRANSACTIONS = [
    {"id": "t-1", "amount_cents": 1234, "currency": "USD", "status": "completed", "customer_id": "c-1",
     "created_at": T0.isoformat(), "channel": "web"},
    {"id": "t-2", "amount_cents": 99900, "currency": "USD", "status": "pending",
     "customer_id": "=HYPERLINK(\"http://evil\")", "created_at": (T0 + timedelta(minutes=20)).isoformat()},
    {"id": "t-3", "amount_cents": 500, "currency": "JPY", "status": "failed", "customer_id": "+cmd",
     "created_at": (T0 + timedelta(hours=2)).isoformat(), "channel": "app"},
    # Outside the range: must not appear.
    {"id": "t-old", "amount_cents": 1, "currency": "USD", "status": "completed", "customer_id": "c-9",
     "created_at": "2026-10-01T00:00:00+00:00"},
]


def ingest(client, **body):
    resp = client.post("/api/v1/events", json=body, headers=INGEST)
    assert resp.status_code == 202, resp.get_data(as_text=True)


def download(admin_client, data_type, form, start=START, end=END, **extra):
    resp = admin_client.api("POST", "/admin/api/export", json={
        "data_type": data_type, "format": form, "start": start, "end": end, **extra})
    assert resp.status_code == 200, resp.json
    body = resp.json
    got = admin_client.get(body["url"])
    assert got.status_code == 200, got.get_data(as_text=True)[:300]
    # The range ends before November 21: the name shows its last day, November 20.
    assert got.headers["Content-Disposition"] == \
        f'attachment; filename="{data_type}_2026-11-01_2026-11-20.{form}"'
    return got.get_data()


def parse(data: bytes, form: str) -> list[dict]:
    if form == "csv":
        return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    if form == "json":
        return json.loads(data)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows())
    header = [c.value for c in rows[0]]
    return [{h: c for h, c in zip(header, r)} for r in rows[1:]]  # cells, to check types


@pytest.fixture
def seeded(app, client):
    ingest(client, transactions=TRANSACTIONS,
           activities=[{"user_id": "u-1", "action": "login", "detail": "-2+3",
                        "created_at": T0.isoformat()},
                       {"user_id": "u-2", "action": "checkout", "created_at": (T0 + timedelta(minutes=1)).isoformat()}],
           logs=[{"service": "billing", "level": "error", "message": "=1+1 card declined",
                  "created_at": T0.isoformat()},
                 {"service": "web", "level": "info", "message": "GET / 200",
                  "created_at": (T0 + timedelta(seconds=5)).isoformat()}])
    with database.session_scope(app) as s:
        s.add(SystemMetric(recorded_at=T0, host="web-1", cpu_percent=41.5, memory_percent=63.0,
                           disk_percent=70.25, net_sent_bps=100.0, net_recv_bps=200.0))
        s.add(RequestStat(minute=T0, endpoint="/checkout", method="POST", count=4, errors=1,
                          total_ms=200.0, max_ms=90.0, db_queries=8, db_ms=20.0, buckets={}))
        s.add(Alert(rule_name="High CPU", metric="cpu_percent", severity="critical", status="resolved",
                    title="CPU above 90%", value=95.0, threshold=90.0, started_at=T0,
                    last_seen_at=T0, acknowledged_at=T0 + timedelta(minutes=2), acknowledged_by="zoë",
                    ack_note="Looking: the nightly réindex", resolved_at=T0 + timedelta(minutes=5),
                    resolved_by="admin", resolve_note="Reindex moved to 03:00"))
    return app


@pytest.mark.parametrize("form", ["csv", "json", "xlsx"])
def test_transactions_match_what_was_ingested(seeded, admin_client, form):
    rows = parse(download(admin_client, "transactions", form), form)
    val = (lambda c: c.value) if form == "xlsx" else (lambda c: c)
    assert [val(r["id"]) for r in rows] == ["t-1", "t-2", "t-3"]
    by_id = {val(r["id"]): r for r in rows}
    assert [int(val(by_id[t["id"]]["amount_cents"])) for t in TRANSACTIONS[:3]] == [1234, 99900, 500]
    if form == "csv":
        assert by_id["t-1"]["amount"] == "12.34" and by_id["t-3"]["amount"] == "500"
        assert by_id["t-1"]["created_at"] == "2026-11-03T10:00:00+00:00"
        # Formula-looking text is defused with a leading quote.
        assert by_id["t-2"]["customer_id"] == "'=HYPERLINK(\"http://evil\")"
        assert by_id["t-3"]["customer_id"] == "'+cmd"
    elif form == "json":
        assert by_id["t-1"]["amount"] == "12.34" and by_id["t-1"]["amount_cents"] == 1234
        assert by_id["t-1"]["created_at"] == "2026-11-03T10:00:00+00:00"
        assert by_id["t-2"]["customer_id"] == "=HYPERLINK(\"http://evil\")"  # JSON is data, not a sheet
    else:
        amount = by_id["t-1"]["amount"]
        assert amount.data_type == "n" and amount.value == pytest.approx(12.34)
        assert "USD" in amount.number_format and "0.00" in amount.number_format
        assert by_id["t-3"]["amount"].value == 500 and "JPY" in by_id["t-3"]["amount"].number_format
        assert by_id["t-1"]["amount_cents"].data_type == "n"
        assert isinstance(by_id["t-1"]["created_at"].value, datetime)
        assert by_id["t-1"]["created_at"].value == datetime(2026, 11, 3, 10, 0)
        assert by_id["t-2"]["customer_id"].value == "'=HYPERLINK(\"http://evil\")"
        assert by_id["t-2"]["customer_id"].data_type == "s"


@pytest.mark.parametrize("form", ["csv", "json", "xlsx"])
def test_every_other_data_type(seeded, admin_client, form):
    def rows(kind):
        out = parse(download(admin_client, kind, form), form)
        return [{k: (v.value if form == "xlsx" else v) for k, v in r.items()} for r in out]

    activity = rows("activity")
    assert [(r["user_id"], r["action"]) for r in activity] == [("u-1", "login"), ("u-2", "checkout")]
    assert activity[0]["detail"] == ("-2+3" if form == "json" else "'-2+3")

    logs = rows("logs")
    assert [(r["service"], r["level"]) for r in logs] == [("billing", "ERROR"), ("web", "INFO")]
    assert logs[0]["message"] == ("=1+1 card declined" if form == "json" else "'=1+1 card declined")

    (metric,) = rows("metrics")
    assert float(metric["cpu_percent"]) == 41.5 and float(metric["disk_percent"]) == 70.25
    assert metric["host"] == "web-1"

    (perf,) = rows("performance")
    assert perf["endpoint"] == "/checkout" and int(perf["count"]) == 4 and int(perf["errors"]) == 1
    assert float(perf["avg_ms"]) == 50.0

    (alert,) = rows("alerts")
    assert alert["rule"] == "High CPU" and alert["status"] == "resolved"
    assert float(alert["value"]) == 95.0
    # Who acknowledged and resolved it, when, and what they wrote.
    assert (alert["acknowledged_by"], alert["ack_note"]) == ("zoë", "Looking: the nightly réindex")
    assert (alert["resolved_by"], alert["resolve_note"]) == ("admin", "Reindex moved to 03:00")
    when = {"csv": "2026-11-03T10:05:00+00:00", "json": "2026-11-03T10:05:00+00:00",
            "xlsx": datetime(2026, 11, 3, 10, 5)}[form]
    assert alert["resolved_at"] == when

    revenue = rows("revenue")
    usd = [r for r in revenue if r["currency"] == "USD" and int(r["transactions"]) > 0]
    jpy = [r for r in revenue if r["currency"] == "JPY" and int(r["transactions"]) > 0]
    # t-1 (completed 12.34) and t-2 (pending) share the 10:00 hour; t-3 (failed JPY) is at 12:00.
    assert [(int(r["revenue_cents"]), int(r["completed"]), int(r["pending"])) for r in usd] == [(1234, 1, 1)]
    assert [(int(r["revenue_cents"]), int(r["failed"])) for r in jpy] == [(0, 1)]
    assert sum(int(r["revenue_cents"]) for r in revenue) == 1234
    if form == "xlsx":
        raw = parse(download(admin_client, "revenue", "xlsx"), "xlsx")
        hit = next(r for r in raw if r["currency"].value == "USD" and r["revenue_cents"].value == 1234)
        assert hit["revenue"].value == pytest.approx(12.34) and "USD" in hit["revenue"].number_format
        assert isinstance(hit["bucket_start"].value, datetime)


def test_csv_is_utf8_with_one_bom_and_opens_right_in_pandas(seeded, admin_client):
    resp = admin_client.api("POST", "/admin/api/export", json={
        "data_type": "alerts", "format": "csv", "start": START, "end": END})
    got = admin_client.get(resp.json["url"])
    assert got.headers["Content-Type"] == "text/csv; charset=utf-8"
    data = got.get_data()
    # One byte-order mark, at the very start: spreadsheets then read the file as UTF-8.
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    frame = pandas.read_csv(io.BytesIO(data))
    assert list(frame.columns)[:2] == ["id", "started_at"]
    assert frame["acknowledged_by"][0] == "zoë"
    assert frame["ack_note"][0] == "Looking: the nightly réindex"
    # Python's csv module reads it with the utf-8-sig codec (the README says so).
    assert next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[0] == "id"


@pytest.mark.parametrize("start, end, name", [
    ("2026-11-01T00:00:00+00:00", "2026-11-02T00:00:00+00:00", "logs_2026-11-01_2026-11-01.csv"),
    ("2026-11-01T00:00:00+00:00", "2026-11-21T09:30:00+00:00", "logs_2026-11-01_2026-11-21.csv"),
    ("2026-11-01T00:00:00+01:00", "2026-11-08T00:00:00+01:00", "logs_2026-10-31_2026-11-07.csv"),
])
def test_file_name_ends_with_the_last_day_included(app, admin_client, start, end, name):
    resp = admin_client.api("POST", "/admin/api/export", json={
        "data_type": "logs", "format": "csv", "start": start, "end": end})
    assert resp.json["filename"] == name
    assert admin_client.get(resp.json["url"]).headers["Content-Disposition"] == f'attachment; filename="{name}"'


def test_empty_range_gives_just_the_header(app, admin_client):
    data = download(admin_client, "transactions", "csv")
    assert data.decode("utf-8-sig").strip().split(",")[:3] == ["id", "created_at", "updated_at"]
    assert json.loads(download(admin_client, "logs", "json")) == []


@pytest.mark.parametrize("body, field", [
    ({"data_type": "secrets", "format": "csv"}, "data_type"),
    ({"data_type": "logs", "format": "pdf"}, "format"),
    ({"data_type": "logs", "format": "csv", "start": "soon"}, "start"),
    ({"data_type": "logs", "format": "csv", "start": END, "end": START}, "start"),
    ({"data_type": "revenue", "format": "csv", "period": "yearly"}, "period"),
])
def test_bad_requests_are_400(app, admin_client, body, field):
    resp = admin_client.api("POST", "/admin/api/export", json=body)
    assert resp.status_code == 400
    assert field in resp.json["error"]["message"]


def test_viewer_may_export_and_anonymous_gets_401(app, viewer_client, client):
    # Exporting reads data (for accounting); a viewer gets a link of their own that works.
    resp = viewer_client.api("POST", "/admin/api/export", json={"data_type": "logs", "format": "csv"})
    assert resp.status_code == 200
    download = viewer_client.get(resp.json["url"])
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert client.post("/admin/api/export", json={"data_type": "logs"}).status_code in (400, 401)
    assert client.get("/admin/api/export/anything").status_code == 401
