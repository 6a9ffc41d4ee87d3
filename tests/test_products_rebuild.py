"""``flask rebuild-rollups`` recomputes the daily product sales rollups from the stored lines: after
the rows were damaged or deleted, the best sellers answer sums over the raw lines again."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select, update

import database
from services.products import sales
from services.products.models import ProductSalesRollup
from tests.helpers import INGEST

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SKUS = ("MUG", "TEE", "CAP", "BAG")


def _orders():
    """Orders over several days in two currencies, each with one to three lines."""
    orders = {}
    for i in range(40):
        lines = [{"sku": SKUS[(i + j) % len(SKUS)], "quantity": 1 + (i * j) % 3, "amount_cents": 250 + 37 * i + 11 * j}
                 for j in range(1 + i % 3)]
        orders[f"r{i}"] = {"id": f"r{i}", "amount_cents": sum(line["amount_cents"] for line in lines) + i,
                           "currency": ("USD", "EUR")[i % 2], "status": ("completed", "completed", "pending")[i % 3],
                           "customer_id": f"c{i % 5}", "items": lines,
                           "created_at": (NOW - timedelta(hours=5 + 13 * i)).isoformat()}
    return orders


def _expected(orders, currency):
    """Units and revenue per sku of the completed orders in ``currency``, summed over their lines."""
    per_sku = defaultdict(lambda: [0, 0])
    for order in orders.values():
        if order["status"] == "completed" and order["currency"] == currency:
            for line in order["items"]:
                per_sku[line["sku"]][0] += line["quantity"]
                per_sku[line["sku"]][1] += line["amount_cents"]
    return dict(per_sku)


def _best_sellers(admin_client, currency):
    body = admin_client.get("/admin/api/products/top", query_string={
        "currency": currency, "limit": 100, "start": (NOW - timedelta(days=30)).isoformat()}).get_json()
    return {p["sku"]: [p["units"], p["revenue_cents"]] for p in body["products"]}, body["revenue_cents"]


def test_rebuild_restores_the_product_sales_rollups_from_the_lines(app, client, admin_client):
    orders = _orders()
    r = client.post("/api/v1/events", json={"transactions": list(orders.values())}, headers=INGEST)
    assert r.status_code == 202, r.get_json()
    # Status changes without the lines re-sent: completed orders refunded, pending ones completed.
    changed = []
    for order in list(orders.values())[:24]:
        status = {"completed": "refunded", "pending": "completed"}[order["status"]]
        orders[order["id"]] = {**order, "status": status}
        changed.append({k: v for k, v in orders[order["id"]].items() if k != "items"})
    assert client.post("/api/v1/events", json={"transactions": changed}, headers=INGEST).status_code == 202
    good = {c: _best_sellers(admin_client, c) for c in ("USD", "EUR")}
    assert all(good[c][0] == _expected(orders, c) for c in good)  # ingest kept them exact

    with database.session_scope(app) as s:
        rows = s.scalar(select(func.count()).select_from(ProductSalesRollup))
        first = s.execute(select(ProductSalesRollup.bucket_start, ProductSalesRollup.sku)
                          .order_by(ProductSalesRollup.bucket_start, ProductSalesRollup.sku).limit(1)).one()
        s.execute(update(ProductSalesRollup).values(completed=ProductSalesRollup.completed + 5,
                                                    revenue_cents=ProductSalesRollup.revenue_cents * 3))
        s.execute(delete(ProductSalesRollup).where(ProductSalesRollup.currency == "EUR"))
        s.execute(delete(ProductSalesRollup).where(ProductSalesRollup.bucket_start == first[0],
                                                   ProductSalesRollup.sku == first[1]))
    assert {c: _best_sellers(admin_client, c) for c in good} != good

    result = app.test_cli_runner().invoke(args=["rebuild-rollups"])
    assert result.exit_code == 0, result.output
    assert f"and {rows} product sales rollup rows" in result.output
    for currency in ("USD", "EUR"):
        got, revenue = _best_sellers(admin_client, currency)
        want = _expected(orders, currency)
        assert got == want
        assert revenue == sum(v[1] for v in want.values())
    with database.session_scope(app) as s:
        assert sales.current(s) == sales.recompute(s)
