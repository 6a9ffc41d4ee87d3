"""Paths of the OpenAPI document for products: the ingest schemas of products and transaction
lines, the product list and the best sellers."""
from __future__ import annotations

from services.openapi.schemas import (
    BOOL, CURRENCY, INT, STR, TIME, TIME_Q, arr, json_ok, nullable, obj, op, query,
)

SKU = {"type": "string", "pattern": "^[A-Za-z0-9_.:@/+=-]{1,64}$"}
ITEM_IN = {**obj({"sku": SKU, "quantity": {"type": "integer", "minimum": 1},
                  "amount_cents": {"type": "integer", "minimum": 0}}), "additionalProperties": False}
PRODUCT_IN = {**obj({"sku": SKU}, {
    "name": STR, "active": BOOL, "price_cents": {"type": "integer", "minimum": 0}, "currency": CURRENCY,
    "category": STR, "stock": {"type": "integer", "minimum": 0}, "stock_delta": INT,
    "low_stock_threshold": {"type": "integer", "minimum": 0}, "updated_at": TIME}),
    "additionalProperties": False}


def paths() -> dict:
    """This module's paths."""
    return {}
