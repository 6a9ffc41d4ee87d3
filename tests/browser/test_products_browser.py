"""The Products page in Chromium: ingested products and orders show with the API's figures (low
stock first, best sellers by revenue and by units, the catalogue table), and the Overview's
catalogue cards count them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.browser.conftest import INGEST_KEY, eventually, plain_panel, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

ROWS = """(id) => [...document.querySelectorAll('#' + id + ' tbody tr')]
  .map(r => [...r.querySelectorAll('td')].map(td => td.textContent.trim())).filter(r => r.length > 1)"""


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    yield from plain_panel(tmp_path_factory, "products")


def send(base_url: str, body: dict) -> dict:
    resp = requests.post(f"{base_url}/api/v1/events", timeout=10, json=body,
                         headers={"Authorization": f"Bearer {INGEST_KEY}"})
    assert resp.status_code == 202, resp.text
    return resp.json()


def test_products_page_shows_what_was_ingested_with_the_api_figures(watched):
    page = watched.page
    at = (datetime.now(timezone.utc) - timedelta(minutes=20)).isoformat()
    send(watched.base_url, {"products": [
        {"sku": "MUG-1", "name": "Enamel mug", "category": "Kitchen", "price_cents": 1500, "currency": "USD", "stock": 40},
        {"sku": "KNIFE-2", "name": "Chef knife", "category": "Kitchen", "price_cents": 8900, "currency": "USD", "stock": 3},
        {"sku": "POT-3", "name": "Terracotta pot", "category": "Garden", "price_cents": 700, "currency": "USD", "stock": 60},
        {"sku": "OLD-4", "name": "Retired lamp", "active": False, "stock": 0}]})
    send(watched.base_url, {"transactions": [
        {"id": "o1", "amount_cents": 12000, "currency": "USD", "status": "completed", "customer_id": "c1",
         "created_at": at, "items": [{"sku": "MUG-1", "quantity": 2, "amount_cents": 3000},
                                     {"sku": "KNIFE-2", "quantity": 1, "amount_cents": 8900}]},
        {"id": "o2", "amount_cents": 7000, "currency": "USD", "status": "completed", "customer_id": "c2",
         "created_at": at, "items": [{"sku": "POT-3", "quantity": 10, "amount_cents": 7000}]},
        {"id": "o3", "amount_cents": 1500, "currency": "USD", "status": "failed", "customer_id": "c3",
         "created_at": at, "items": [{"sku": "MUG-1", "quantity": 1, "amount_cents": 1500}]}]})

    watched.goto("/admin/products")
    low = lambda: [r[:4] + [r[4] != "—"] if len(r) == 5 else r for r in page.evaluate(ROWS, "low-stock-table")]  # noqa: E731
    eventually(lambda: low() == [["Chef knife", "KNIFE-2", "3", "5", True]], lambda: f"low stock: {low()}")
    by_revenue = lambda: [(r[0], r[-2]) for r in page.evaluate(ROWS, "top-revenue-table")]  # noqa: E731
    eventually(lambda: by_revenue() == [("Chef knife", "1"), ("Terracotta pot", "10"), ("Enamel mug", "2")],
               lambda: f"top by revenue: {page.evaluate(ROWS, 'top-revenue-table')}")
    revenue = [r[3] for r in page.evaluate(ROWS, "top-revenue-table")]
    assert ["89.00" in revenue[0], "70.00" in revenue[1], "30.00" in revenue[2]] == [True] * 3, revenue
    units = [(r[0], r[2]) for r in page.evaluate(ROWS, "top-units-table")]
    assert units == [("Terracotta pot", "10"), ("Enamel mug", "2"), ("Chef knife", "1")]
    assert page.locator('[data-card="active_products"] .metric-value').inner_text() == "3"
    assert page.locator('[data-card="low_stock_products"] .metric-value').inner_text() == "1"
    assert "189.00" in page.locator('[data-card="range_revenue"] .metric-value').inner_text()

    table = lambda: page.evaluate(ROWS, "products-table")  # noqa: E731
    eventually(lambda: [r[0] for r in table()] == ["Chef knife", "Enamel mug", "Retired lamp", "Terracotta pot"],
               lambda: f"table: {table()}")
    page.click('#products-table .sort[data-sort="units"]')
    eventually(lambda: [(r[0], r[-2]) for r in table()][:3] == [("Terracotta pot", "10"), ("Enamel mug", "2"), ("Chef knife", "1")],
               lambda: f"sorted by units: {table()}")
    page.fill("#product-q", "knife")
    eventually(lambda: [tuple(r[0:1] + r[3:5]) for r in table()] == [("Chef knife", "Low", "3")],
               lambda: f"searched: {table()}")
    page.fill("#product-q", "")
    page.select_option("#product-state", "inactive")
    eventually(lambda: [tuple(r[0:1] + r[3:4]) for r in table()] == [("Retired lamp", "Inactive")], lambda: f"inactive: {table()}")
    shot(page, "products")

    watched.goto("/admin/dashboard")
    eventually(lambda: page.locator('[data-card="active_products"] .metric-value').inner_text() == "3"
               and page.locator('[data-card="low_stock"] .metric-value').inner_text() == "1",
               lambda: "overview catalogue cards did not show 3 and 1")
