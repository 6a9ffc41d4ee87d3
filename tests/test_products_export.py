"""Exports of the catalogue: orders with their lines, products with stock and range sales, and
the ``all`` ZIP, whose members equal the single exports byte for byte."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from services.export import SOURCES
from tests.helpers import INGEST

T0 = datetime(2026, 11, 3, 10, 7, tzinfo=timezone.utc)
START, END = "2026-11-01T00:00:00+00:00", "2026-11-21T00:00:00+00:00"


def ingest(client, **body):
    resp = client.post("/api/v1/events", json=body, headers=INGEST)
    assert resp.status_code == 202, resp.get_data(as_text=True)


def download(admin_client, data_type, form, **extra):
    resp = admin_client.api("POST", "/admin/api/export", json={
        "data_type": data_type, "format": form, "start": START, "end": END, **extra})
    assert resp.status_code == 200, resp.json
    got = admin_client.get(resp.json["url"])
    assert got.status_code == 200, got.get_data(as_text=True)[:300]
    return got


def fill(client):
    ingest(client, products=[{"sku": "MUG", "name": "Mug", "category": "Kitchen", "price_cents": 1200,
                              "currency": "EUR", "stock": 4},
                             {"sku": "=cmd", "name": "+evil", "stock": 30}])
    ingest(client, transactions=[
        {"id": "o1", "amount_cents": 5000, "currency": "EUR", "status": "completed", "customer_id": "c1",
         "created_at": T0.isoformat(), "items": [{"sku": "MUG", "quantity": 3, "amount_cents": 3600},
                                                 {"sku": "=cmd", "quantity": 1, "amount_cents": 1400}]},
        {"id": "o2", "amount_cents": 900, "currency": "USD", "status": "completed", "customer_id": "c2",
         "created_at": (T0 + timedelta(hours=3)).isoformat(), "items": [{"sku": "MUG", "quantity": 1, "amount_cents": 900}]},
        {"id": "o3", "amount_cents": 100, "currency": "USD", "status": "pending", "customer_id": "c3",
         "created_at": (T0 + timedelta(hours=4)).isoformat()},
        {"id": "old", "amount_cents": 100, "currency": "USD", "status": "completed", "customer_id": "c3",
         "created_at": "2026-10-01T00:00:00+00:00", "items": [{"sku": "MUG", "quantity": 9, "amount_cents": 100}]}])


def test_orders_carry_their_lines_and_products_their_range_sales(app, client, admin_client):
    fill(client)
    orders = json.loads(download(admin_client, "orders", "json").get_data())
    assert [(o["id"], o["line"], o["sku"], o["quantity"], o["line_amount_cents"]) for o in orders] == [
        ("o1", 0, "MUG", 3, 3600), ("o1", 1, "=cmd", 1, 1400), ("o2", 0, "MUG", 1, 900), ("o3", None, None, None, None)]
    assert orders[0]["line_amount"] == "36.00" and orders[0]["currency"] == "EUR"
    rows = list(csv.DictReader(io.StringIO(download(admin_client, "products", "csv").get_data().decode("utf-8-sig"))))
    got = [(r["sku"], r["stock"], r["currency"], r["units"], r["revenue_cents"]) for r in rows]
    assert got == [("'=cmd", "30", "EUR", "1", "1400"), ("MUG", "4", "EUR", "3", "3600"), ("MUG", "4", "USD", "1", "900")]
    assert rows[0]["name"] == "'+evil"  # formula-looking text is neutralised in CSV


@pytest.mark.parametrize("form", ["csv", "json", "xlsx"])
def test_the_zip_holds_every_data_type_equal_to_its_single_export(app, client, admin_client, form):
    fill(client)
    got = download(admin_client, "all", form, period="daily", tz="UTC")
    assert got.headers["Content-Type"] == "application/zip"
    assert got.headers["Content-Disposition"] == 'attachment; filename="all_2026-11-01_2026-11-20.zip"'
    archive = zipfile.ZipFile(io.BytesIO(got.get_data()))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == sorted(f"{name}.{form}" for name in SOURCES)
    for name in SOURCES:
        single = download(admin_client, name, form, period="daily", tz="UTC").get_data()
        member = archive.read(f"{name}.{form}")
        if form == "xlsx":  # the workbook's timestamps differ: compare the cells
            assert _cells(member) == _cells(single), name
        else:
            assert member == single, name
    if form == "json":
        assert len(json.loads(archive.read("orders.json"))) == 4


def _cells(data: bytes) -> list[tuple]:
    import openpyxl

    return [tuple(c.value for c in row) for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows()]
