"""Products and transaction items through POST /api/v1/events: upserts, stale sends, stock deltas,
item validation, and the sales rollups equal to sums over the raw lines."""
from __future__ import annotations

from sqlalchemy import func, select

import database
from services.ingest import Transaction
from services.products import sales
from services.products.hooks import record_product
from services.products.models import LowStockEpisode, Product, ProductSalesRollup, TransactionItem
from tests.helpers import INGEST, transaction

URL = "/api/v1/events"


def post(client, **body):
    return client.post(URL, json=body, headers=INGEST)


def products(app):
    with database.session_scope(app) as s:
        return {p.sku: {"name": p.name, "active": p.active, "price_cents": p.price_cents, "currency": p.currency,
                        "category": p.category, "stock": p.stock, "low_stock_threshold": p.low_stock_threshold}
                for p in s.scalars(select(Product))}


def count(app, model):
    with database.session_scope(app) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_products_are_upserted_by_sku_keeping_fields_not_sent(app, client):
    r = post(client, products=[{"sku": "MUG-1", "name": "Mug", "price_cents": 1299, "currency": "eur",
                                "category": "Kitchen", "stock": 40, "low_stock_threshold": 3}])
    assert r.status_code == 202, r.get_json()
    assert r.get_json()["accepted"]["products"] == 1
    r = post(client, products=[{"sku": "MUG-1", "price_cents": 1499}, {"sku": "TEE-2", "name": "T-shirt"}])
    assert r.status_code == 202
    assert products(app) == {
        "MUG-1": {"name": "Mug", "active": True, "price_cents": 1499, "currency": "EUR", "category": "Kitchen",
                  "stock": 40, "low_stock_threshold": 3},
        "TEE-2": {"name": "T-shirt", "active": True, "price_cents": None, "currency": None, "category": None,
                  "stock": None, "low_stock_threshold": None}}


def test_a_stale_product_send_is_ignored(app, client):
    assert post(client, products=[{"sku": "A1", "name": "New name", "stock": 9,
                                   "updated_at": "2026-11-20T12:00:00Z"}]).status_code == 202
    assert post(client, products=[{"sku": "A1", "name": "Old name", "stock": 50,
                                   "updated_at": "2026-11-20T11:00:00Z"},
                                  {"sku": "A1", "stock_delta": -2, "updated_at": "2026-11-20T11:30:00Z"}]
                ).status_code == 202
    assert (products(app)["A1"]["name"], products(app)["A1"]["stock"]) == ("New name", 9)
    assert post(client, products=[{"sku": "A1", "stock": 7, "updated_at": "2026-11-20T12:30:00Z"}]).status_code == 202
    assert products(app)["A1"]["stock"] == 7


def test_stock_deltas_add_up_across_batches_and_hooks(app, client):
    post(client, products=[{"sku": "B1", "name": "Bolt", "stock": 100}])
    post(client, products=[{"sku": "B1", "stock_delta": -30}, {"sku": "B1", "stock_delta": -5}])
    record_product("B1", stock_delta=12, app=app)
    post(client, products=[{"sku": "NEW", "stock_delta": 4}])  # none stored counts as 0; name = sku
    got = products(app)
    assert got["B1"]["stock"] == 100 - 30 - 5 + 12
    assert (got["NEW"]["stock"], got["NEW"]["name"]) == (4, "NEW")


def test_bad_products_are_refused_naming_the_field_and_store_nothing(app, client):
    bad = [({"name": "no sku"}, "sku"), ({"sku": "has space"}, "sku"), ({"sku": "x", "stock": -1}, "stock"),
           ({"sku": "x", "stock": 1.5}, "stock"), ({"sku": "x", "active": "yes"}, "active"),
           ({"sku": "x", "stock": 3, "stock_delta": 1}, "stock_delta"), ({"sku": "x", "colour": "red"}, "colour"),
           ({"sku": "x", "currency": "EURO"}, "currency"), ({"sku": "x", "low_stock_threshold": True},
                                                            "low_stock_threshold")]
    for item, field in bad:
        r = post(client, products=[{"sku": "ok", "name": "fine"}, item],
                 transactions=[transaction("t1", 100)])
        assert r.status_code == 400, item
        error = r.get_json()["error"]
        assert (error["kind"], error["index"], error["field"]) == ("products", 1, field), item
    assert (count(app, Product), count(app, Transaction)) == (0, 0)


def test_items_are_stored_and_unknown_skus_listed(app, client):
    post(client, products=[{"sku": "MUG-1", "name": "Mug"}])
    tx = transaction("o1", 5000) | {"items": [{"sku": "MUG-1", "quantity": 2, "amount_cents": 2400},
                                             {"sku": "GHOST", "quantity": 1, "amount_cents": 2600}]}
    r = post(client, transactions=[tx])
    assert r.status_code == 202 and r.get_json()["unknown_skus"] == ["GHOST"]
    with database.session_scope(app) as s:
        lines = [(i.line, i.sku, i.quantity, i.amount_cents) for i in
                 s.scalars(select(TransactionItem).order_by(TransactionItem.line))]
    assert lines == [(0, "MUG-1", 2, 2400), (1, "GHOST", 1, 2600)]
    assert "unknown_skus" not in post(client, transactions=[transaction("o2", 10)]).get_json()


def test_bad_items_are_refused_naming_item_and_field(app, client):
    def lines(*items):
        return transaction("o9", 1000) | {"items": list(items)}

    good = {"sku": "A", "quantity": 1, "amount_cents": 100}
    bad = [(lines(good, {"sku": "A", "quantity": 0, "amount_cents": 1}), "items[1].quantity"),
           (lines({"sku": "A", "quantity": 1.0, "amount_cents": 1}), "items[0].quantity"),
           (lines({"sku": "A", "quantity": True, "amount_cents": 1}), "items[0].quantity"),
           (lines({"sku": "A", "quantity": 1, "amount_cents": -1}), "items[0].amount_cents"),
           (lines({"sku": "A", "quantity": 1}), "items[0].amount_cents"),
           (lines({"sku": "bad sku", "quantity": 1, "amount_cents": 1}), "items[0].sku"),
           (lines({"sku": "A", "quantity": 1, "amount_cents": 1, "x": 1}), "items[0].x"),
           (lines(good, {"sku": "B", "quantity": 1, "amount_cents": 901}), "items[1].amount_cents"),
           (lines("A"), "items[0]"),
           (transaction("o9", 1000) | {"items": {"sku": "A"}}, "items")]
    for tx, field in bad:
        r = post(client, products=[{"sku": "A", "name": "a"}], transactions=[tx])
        assert r.status_code == 400, tx
        error = r.get_json()["error"]
        assert (error["kind"], error["index"], error["field"]) == ("transactions", 0, field), tx
    assert (count(app, Product), count(app, Transaction), count(app, TransactionItem)) == (0, 0, 0)
    # Exactly the transaction's amount is fine.
    ok = lines(good, {"sku": "B", "quantity": 3, "amount_cents": 900})
    assert post(client, transactions=[ok]).status_code == 202


def test_sales_rollups_follow_status_changes_currencies_and_new_lines(app, client):
    def tx(tid, status, currency, items, amount=10_000, **over):
        return transaction(tid, amount, status=status, currency=currency, at="2026-11-20T10:07:00Z") | {
            "items": items, **over}

    mug = {"sku": "MUG", "quantity": 2, "amount_cents": 3000}
    tee = {"sku": "TEE", "quantity": 1, "amount_cents": 2000}
    post(client, transactions=[tx("a", "completed", "USD", [mug, tee]), tx("b", "pending", "EUR", [mug]),
                               tx("c", "completed", "EUR", [tee, tee])])
    post(client, transactions=[tx("a", "refunded", "USD", None),  # lines not sent: the stored ones stay
                               tx("b", "completed", "EUR", None),
                               tx("c", "completed", "EUR", [mug])])  # new lines replace the old
    with database.session_scope(app) as s:
        assert sales.current(s) == sales.recompute(s)
        got = sales.current(s)
    hour = sales.bucket_start(__import__("datetime").datetime.fromisoformat("2026-11-20T10:07:00+00:00"))
    zero = {"completed": 0, "pending": 0, "failed": 0, "refunded": 0, "revenue_cents": 0}
    assert got == {(hour, "USD", "MUG"): zero | {"refunded": 2}, (hour, "USD", "TEE"): zero | {"refunded": 1},
                   (hour, "EUR", "MUG"): zero | {"completed": 4, "revenue_cents": 6000}}
    assert count(app, ProductSalesRollup) >= 3


def test_episodes_open_once_per_shortage_and_close_on_restock(app, client):
    post(client, products=[{"sku": "P", "name": "P", "stock": 20}, {"sku": "Q", "name": "Q", "stock": 9,
                                                                    "low_stock_threshold": 10}])
    post(client, products=[{"sku": "P", "stock_delta": -16}])  # 4 <= 5 (global)
    post(client, products=[{"sku": "P", "stock_delta": -1}, {"sku": "P", "stock_delta": -1}])  # still low
    post(client, products=[{"sku": "P", "stock_delta": 30}])  # restocked
    post(client, products=[{"sku": "P", "stock": 0}])  # a second shortage
    with database.session_scope(app) as s:
        rows = [(e.sku, e.stock_at_open, e.closed_at is None) for e in
                s.scalars(select(LowStockEpisode).order_by(LowStockEpisode.id))]
    assert rows == [("Q", 9, True), ("P", 4, False), ("P", 0, True)]
