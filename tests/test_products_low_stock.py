"""Low stock: the catalogue metrics, and the shipped rule "more than 10 products low on stock"
firing once the 11th product goes low and resolving on restock."""
from __future__ import annotations

from sqlalchemy import select

import database
from database import utcnow
from services.alerts import Alert, AlertRule, DbProbe
from services.alerts import lifecycle as alerts
from services.metrics import catalog
from services.products.models import LowStockEpisode
from tests.helpers import INGEST


def post(client, products):
    r = client.post("/api/v1/events", json={"products": products}, headers=INGEST)
    assert r.status_code == 202, r.get_json()


def only_low_stock_rule(app):
    with database.session_scope(app) as s:
        rules = list(s.scalars(select(AlertRule)))
        for rule in rules:
            rule.enabled = (rule.params or {}).get("key") == "low_stock"
        shipped = [r for r in rules if r.enabled]
        assert [(r.name, r.metric, r.operator, r.threshold, r.severity, r.builtin) for r in shipped] == [
            ("Products low on stock", "metric", ">", 10.0, "warning", True)]


def evaluate(app):
    with database.session_scope(app) as s:
        alerts.evaluate(s, {}, utcnow(), DbProbe())
    with database.session_scope(app) as s:
        return [(a.rule_name, a.status, a.value) for a in s.scalars(select(Alert).order_by(Alert.id))]


def metric_values(app):
    with app.app_context(), database.session_scope(app) as s:
        series = catalog(s, app.config)["series"]
    return {e["name"]: e["last_value"] for e in series if e["name"] in ("active_products", "low_stock_products")}


def test_shipped_rule_fires_past_ten_low_products_and_resolves_on_restock(app, client):
    only_low_stock_rule(app)
    # 12 active products with plenty, one inactive at 0 (never low), one with its own threshold.
    post(client, [{"sku": f"P{i}", "name": f"P{i}", "stock": 50} for i in range(12)]
         + [{"sku": "OLD", "name": "Old", "stock": 0, "active": False},
            {"sku": "BIG", "name": "Big", "stock": 30, "low_stock_threshold": 25}])
    assert metric_values(app) == {"active_products": 13.0, "low_stock_products": 0.0}
    post(client, [{"sku": f"P{i}", "stock_delta": -46} for i in range(10)])  # 10 low: 4 <= 5
    assert metric_values(app)["low_stock_products"] == 10.0
    assert evaluate(app) == []  # 10 is not more than 10
    post(client, [{"sku": "BIG", "stock_delta": -5}])  # 25 <= its own 25: the 11th
    assert metric_values(app)["low_stock_products"] == 11.0
    assert evaluate(app) == [("Products low on stock", "firing", 11.0)]
    assert evaluate(app) == [("Products low on stock", "firing", 11.0)]  # one shortage, one alert
    post(client, [{"sku": "P0", "stock_delta": 100}, {"sku": "P1", "stock": 80}])
    assert evaluate(app) == [("Products low on stock", "resolved", 9.0)]
    with database.session_scope(app) as s:
        episodes = {(e.sku, e.closed_at is None) for e in s.scalars(select(LowStockEpisode))}
    assert episodes == {*((f"P{i}", i > 1) for i in range(10)), ("BIG", True)}


def test_global_threshold_comes_from_config(make_app):
    app = make_app(LOW_STOCK_THRESHOLD=20)
    client = app.test_client()
    post(client, [{"sku": "A", "name": "A", "stock": 19}, {"sku": "B", "name": "B", "stock": 19,
                                                           "low_stock_threshold": 3}])
    assert metric_values(app)["low_stock_products"] == 1.0
    with database.session_scope(app) as s:
        assert [e.sku for e in s.scalars(select(LowStockEpisode))] == ["A"]


def episodes(app):
    with database.session_scope(app) as s:
        return {(e.id, e.sku, e.closed_at is None) for e in s.scalars(select(LowStockEpisode))}


def test_a_start_with_another_threshold_moves_the_episodes_to_it(make_app):
    """Products stored at threshold 5; the panel started again on the same database at 20, then at 1."""
    app = make_app(LOW_STOCK_THRESHOLD=5)
    stocks = {"A": 3, "B": 12, "C": 18, "D": 40}
    post(app.test_client(), [{"sku": k, "name": k, "stock": v} for k, v in stocks.items()]
         + [{"sku": "OFF", "name": "Off", "stock": 2, "active": False},
            {"sku": "OWN", "name": "Own", "stock": 12, "low_stock_threshold": 2}])
    at_five = episodes(app)
    assert {(sku, is_open) for _, sku, is_open in at_five} == {("A", True)}

    app = make_app(LOW_STOCK_THRESHOLD=20)
    at_twenty = episodes(app)
    assert {(sku, is_open) for _, sku, is_open in at_twenty} == {("A", True), ("B", True), ("C", True)}
    assert at_five <= at_twenty  # A's shortage goes on: the same episode, not a second one
    assert metric_values(app)["low_stock_products"] == 3.0
    assert episodes(make_app(LOW_STOCK_THRESHOLD=20)) == at_twenty  # a start at the same value moves nothing

    app = make_app(LOW_STOCK_THRESHOLD=1)
    assert {(i, sku, False) for i, sku, _ in at_twenty} == episodes(app)
    assert metric_values(app)["low_stock_products"] == 0.0
