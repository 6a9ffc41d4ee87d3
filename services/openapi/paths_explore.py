"""Paths of the OpenAPI document: explore (customers, orders, drill-down rows, search)."""
from __future__ import annotations

from services.openapi.schemas import (
    INT, STR, TIME, arr, errors, json_ok, nullable, obj, op, query,
)

TRANSACTION = obj({"id": STR, "amount_cents": INT, "currency": STR, "status": STR,
                   "customer_id": nullable(STR), "channel": nullable(STR), "created_at": TIME,
                   "updated_at": TIME})
CURSOR = query("cursor", STR, "The next_cursor of the previous page.")


def _text_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}


def _entities() -> dict:
    return {
        "/admin/api/customers/{customer_id}": {"get": op(
            "One customer: revenue per currency, first seen, repeat purchases, activity and a page "
            "of transactions (newest first)",
            {**json_ok(obj({"customer_id": STR, "first_seen": nullable(TIME), "orders": INT,
                            "repeat_purchases": INT, "transactions_count": INT,
                            "revenue": arr(obj({"currency": STR, "revenue_cents": INT, "orders": INT})),
                            "activities": arr(obj({"id": INT, "action": STR, "created_at": TIME})),
                            "transactions": arr(TRANSACTION), "next_cursor": nullable(STR)})),
             **errors(404)},
            params=[_text_id("customer_id"),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 200}), CURSOR],
            tags=["explore"])},
        "/admin/api/orders/{order_id}": {"get": op(
            "One transaction with its status history, oldest change first",
            {**json_ok(obj({"transaction": TRANSACTION,
                            "history": arr(obj({"status": STR, "at": TIME, "received_at": TIME}))})),
             **errors(404)},
            params=[_text_id("order_id")], tags=["explore"])},
    }


def paths() -> dict:
    """The explore paths."""
    return {**_entities()}
