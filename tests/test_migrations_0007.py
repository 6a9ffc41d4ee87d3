"""Revision 0007 (products) on a database that the previous revision left with rows.

Every old row stays as it was, the new tables start empty, and the panel then takes products
and transactions with items beside the old transactions.
"""
from __future__ import annotations

from sqlalchemy import select

import database
from services.ingest.store import ingest_batch
from services.products.models import Product, TransactionItem
from services.ops import migrations
from tests import previous_release
from tests.migration_steps import at_previous_with_rows, filled_tables, up_and_back
from tests.test_migrations import engines, fresh_url, start, version  # noqa: F401 (fixtures)

MY_ID = "0007_products"
NEW_TABLES = ["products", "transaction_items", "product_sales_rollups", "low_stock_episodes"]


def test_old_rows_survive_and_products_ingest_beside_them(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    figures = at_previous_with_rows(engine, MY_ID)
    names = filled_tables(figures)
    assert "transactions" in names and figures["counts"]["transactions"] > 0
    before = previous_release.snapshot(engine, names)

    app = start(fresh_url)
    try:
        assert version(engine) == [migrations.head()]
        after = previous_release.snapshot(engine, names, like=before)
        for name in names:
            if name == "alert_rules":  # the start seeds the shipped rules beside the custom one
                builtin = before[name][0].index("builtin")
                assert [r for r in after[name][1] if not r[builtin]] == before[name][1]
            else:
                assert after[name] == before[name], f"{name} changed on upgrade"
        empty = previous_release.snapshot(engine, NEW_TABLES)
        assert {name: len(rows) for name, (_, rows) in empty.items()} == {name: 0 for name in NEW_TABLES}

        # An old transaction gets items by a re-send; new products land beside it.
        old = next(r for r in before["transactions"][1])
        cols = before["transactions"][0]
        tx = dict(zip(cols, old))
        with database.session_scope(app) as session:
            ingest_batch(session, {"products": [{"sku": "MUG-1", "name": "Mug", "stock": 3}],
                                   "transactions": [{
                                       "id": tx["id"], "amount_cents": tx["amount_cents"],
                                       "currency": tx["currency"], "status": tx["status"],
                                       "customer_id": tx["customer_id"] or "cus_x",
                                       "created_at": tx["created_at"].isoformat(),
                                       "items": [{"sku": "MUG-1", "quantity": 2,
                                                  "amount_cents": tx["amount_cents"]}]}]})
            rows = session.execute(select(TransactionItem.sku, TransactionItem.quantity, TransactionItem.amount_cents)
                                   .where(TransactionItem.transaction_id == tx["id"])).all()
            assert [tuple(r) for r in rows] == [("MUG-1", 2, tx["amount_cents"])]
            assert session.get(Product, "MUG-1").stock == 3
    finally:
        database.get_engine(app).dispose()


def test_downgrade_keeps_the_old_rows(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    names = filled_tables(at_previous_with_rows(engine, MY_ID))
    before, after = up_and_back(engine, MY_ID, names)
    assert after == before
