"""Paths of the OpenAPI document for products: the ingest schemas of products and transaction
lines, the product list and the best sellers."""
from __future__ import annotations

from services.openapi.schemas import (
    BOOL, CURRENCY, INT, STALE, STR, TIME, TIME_Q, arr, json_ok, nullable, obj, op, query,
)

SKU = {"type": "string", "pattern": "^[A-Za-z0-9_.:@/+=-]{1,64}$"}
ITEM_IN = {**obj({"sku": SKU, "quantity": {"type": "integer", "minimum": 1},
                  "amount_cents": {"type": "integer", "minimum": 0}}), "additionalProperties": False}
PRODUCT_IN = {**obj({"sku": SKU}, {
    "name": STR, "active": BOOL, "price_cents": {"type": "integer", "minimum": 0}, "currency": CURRENCY,
    "category": STR, "stock": {"type": "integer", "minimum": 0}, "stock_delta": INT,
    "low_stock_threshold": {"type": "integer", "minimum": 0}, "updated_at": TIME}),
    "additionalProperties": False}


TOTALS = arr(obj({"currency": STR, "revenue_cents": INT, "units": INT}))
RANGE = {"start": TIME, "end": TIME, "currency": nullable(STR), "currencies": TOTALS,
         "other_currencies": arr(STR)}
ROW = obj({"sku": STR, "name": STR, "active": BOOL, "price_cents": nullable(INT), "price_currency": nullable(STR),
           "category": nullable(STR), "stock": nullable(INT), "low_stock_threshold": nullable(INT),
           "threshold": INT, "state": {"enum": ["in_stock", "low", "out_of_stock", "untracked", "inactive"]},
           "low_since": nullable(TIME), "units": INT, "revenue_cents": INT, "updated_at": TIME})
TOP = obj({"sku": STR, "name": nullable(STR), "category": nullable(STR), "known": BOOL, "units": INT,
           "revenue_cents": INT})
CATEGORY = obj({"category": nullable(STR), "units": INT, "revenue_cents": INT})


def _range_params() -> list[dict]:
    return [query("start", TIME_Q, "Start of the range (default: 30 days before end)."),
            query("end", TIME_Q, "End of the range (default and at most: now)."),
            query("currency", CURRENCY, "Currency of the figures (default: most revenue in the range).")]


def paths() -> dict:
    """This module's paths."""
    return {
        "/admin/api/products": {"get": op(
            "Products with stock, threshold, state, price, and units and revenue in the range",
            json_ok(obj({**RANGE, "total": INT, "limit": INT, "offset": INT, "products": arr(ROW),
                         "categories": arr(STR), "low_stock_threshold": INT, "active_products": INT,
                         "low_stock_products": INT}, STALE)),
            params=[*_range_params(), query("q", STR, "Text the name or sku contains."),
                    query("category", STR),
                    query("state", {"enum": ["all", "active", "inactive", "low"]}),
                    query("sort", {"enum": ["name", "sku", "category", "stock", "price", "units", "revenue",
                                            "state"]}),
                    query("order", {"enum": ["asc", "desc"]}),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                    query("offset", {"type": "integer", "minimum": 0, "maximum": 10**9})],
            tags=["products"])},
        "/admin/api/products/top": {"get": op(
            "Best sellers: top products and categories by revenue or units in one currency",
            json_ok(obj({**RANGE, "by": STR, "revenue_cents": INT, "units": INT, "products": arr(TOP),
                         "categories": arr(CATEGORY)}, STALE)),
            params=[*_range_params(), query("by", {"enum": ["revenue", "units"]}),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 100})],
            tags=["products"])},
    }
