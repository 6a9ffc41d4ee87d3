"""The catalogue under /admin/api/: products with their stock and range sales, and best sellers."""
from __future__ import annotations

import re

from flask import jsonify, request

import database
from blueprints.api.base import BadParam, bp, int_arg, time_arg
from services.infra import breaker as circuit_breaker
from services.products import bestsellers, catalogue

_CURRENCY = re.compile(r"^[A-Za-z]{3}$", re.ASCII)


def _range() -> bestsellers.SalesRange:
    return bestsellers.sales_range(time_arg("start"), time_arg("end"), database.utcnow())


def _currency() -> str | None:
    raw = request.args.get("currency")
    if not raw:
        return None
    if not _CURRENCY.match(raw):
        raise BadParam("currency must be a three-letter ISO 4217 code such as EUR", "currency")
    return raw.upper()


def _text(name: str, max_len: int = 200) -> str | None:
    raw = (request.args.get(name) or "").strip()
    if len(raw) > max_len:
        raise BadParam(f"{name} must have at most {max_len} characters", name)
    return raw or None


def _key(name: str) -> tuple:
    # The question as asked: a range ending now falls back to its latest answer in an outage.
    return (name, tuple(sorted(request.args.items())))


@bp.route("/products")
def products_list():
    """Products matching ``q``/``category``/``state``, sorted and paged, with units and revenue in the range."""
    rng, currency = _range(), _currency()
    params = {"q": _text("q"), "category": _text("category", 64), "state": request.args.get("state") or "all",
              "sort": request.args.get("sort") or "name", "order": request.args.get("order") or "asc",
              "limit": int_arg("limit", 50, 1, catalogue.MAX_LIMIT), "offset": int_arg("offset", 0, 0, 10**9)}
    catalogue.check_list_params(params["state"], params["sort"], params["order"])

    def compute():
        return catalogue.list_products(database.get_session(), rng, currency=currency, **params)

    return jsonify(circuit_breaker.fresh_read(_key("products"), compute))


@bp.route("/products/top")
def products_top():
    """Top products and categories by revenue or units in one currency over the range."""
    rng, currency = _range(), _currency()
    by = request.args.get("by") or "revenue"
    limit = int_arg("limit", 10, 1, 100)
    bestsellers.check_by(by)

    def compute():
        return bestsellers.top(database.get_session(), rng, currency, by, limit)

    return jsonify(circuit_breaker.fresh_read(_key("products_top"), compute))
