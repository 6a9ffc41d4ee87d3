"""Demo catalogue: about 300 products in a few categories, orders with lines, stock that drains
with sales and comes back in batches, a few products low so the shipped rule fires."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

import database
from database import utcnow
from services.alerts import Alert, AlertRule, DbProbe
from services.alerts import lifecycle as alerts
from services.demo import Shop
from services.demo import mode as demo
from services.ingest import Transaction
from services.products import sales
from services.products.catalogue import catalogue_counts
from services.products.models import LowStockEpisode, Product, TransactionItem


def test_backfill_brings_a_catalogue_whose_stock_drains_and_the_rule_fires(app):
    now = utcnow().replace(microsecond=0) - timedelta(minutes=1)
    demo.backfill(app, 2, now=now, rng=random.Random(5), progress=lambda *a, **k: None)
    with database.session_scope(app) as s:
        products = list(s.scalars(select(Product)))
        assert 250 <= len(products) <= 350 and 4 <= len({p.category for p in products}) <= 8
        prices = sorted(p.price_cents for p in products)
        assert 499 <= prices[0] and prices[len(prices) // 2] < 20_000
        lines = s.execute(select(TransactionItem.transaction_id, TransactionItem.amount_cents)).all()
        amounts = dict(s.execute(select(Transaction.id, Transaction.amount_cents)).all())
        per_tx = Counter()
        for tid, cents in lines:
            per_tx[tid] += cents
        assert len(per_tx) > 0.9 * len(amounts)  # orders carry lines
        assert all(total <= amounts[tid] for tid, total in per_tx.items())
        assert sales.current(s) == sales.recompute(s)
        counts = catalogue_counts(s, 5)
        assert counts["low_stock_products"] > 10, counts  # late suppliers leave some low
        assert counts["active_products"] < len(products)
        open_episodes = s.scalar(select(LowStockEpisode.id).where(LowStockEpisode.closed_at.is_(None)).limit(1))
        assert open_episodes is not None
        for rule in s.scalars(select(AlertRule)):
            rule.enabled = (rule.params or {}).get("key") == "low_stock"
    with database.session_scope(app) as s:
        alerts.evaluate(s, {}, utcnow(), DbProbe())
    with database.session_scope(app) as s:
        assert [(a.rule_name, a.status) for a in s.scalars(select(Alert))] == [("Products low on stock", "firing")]


def test_live_sales_drain_stock_and_deliveries_refill_it(app):
    traffic = demo.LiveTraffic(app, Shop(random.Random(3), utcnow()), rate_multiplier=60)
    cat = traffic.catalogue
    with app.app_context():
        from services.ingest.store import ingest_batch
        with database.session_scope(app) as s:
            ingest_batch(s, {"products": cat.product_items()})
    before = dict(cat.stock)
    moment = utcnow()
    for i in range(40):
        traffic.tick(moment + timedelta(seconds=i))
    with database.session_scope(app) as s:
        stored = dict(s.execute(select(Product.sku, Product.stock)).all())
        sold = sum(q for q, in s.execute(select(TransactionItem.quantity).join(
            Transaction, Transaction.id == TransactionItem.transaction_id).where(Transaction.status.in_(("completed", "refunded")))))  # a refund is not restocked
    assert sold > 0 and stored == cat.stock
    drained = {sku for sku in stored if stored[sku] < before[sku]}
    assert drained and all(stored[sku] <= before[sku] for sku in stored)  # no delivery due yet
    # The next delivery hour fills up what fell to half its target or below, but for the products
    # whose supplier is late this time (a random 15 %: the supplier draws come from a seeded
    # generator here, not from whatever the traffic above consumed, so the test never depends on
    # the hour it runs at).
    emptied = [p["sku"] for p in cat.products[:40]]
    for sku in emptied:
        cat.stock[sku] = 0
    cat.rng = random.Random(0)
    day = datetime.now(timezone.utc).replace(hour=7, minute=0, second=0, microsecond=0) + timedelta(days=1)
    batch = cat.deliveries_due(day)
    delivered = {change["sku"] for change in batch}
    assert all(change["stock_delta"] > 0 for change in batch)
    late = [sku for sku in emptied if sku not in delivered]
    assert 20 <= len(set(emptied) & delivered) < len(emptied) and late  # most come, some are late
    assert all(cat.stock[sku] > 0 for sku in delivered) and all(cat.stock[sku] == 0 for sku in late)
    assert cat.deliveries_due(day + timedelta(hours=1)) == []  # one batch a day
