"""Paths of the OpenAPI document: explore (customers, orders, drill-down rows, search)."""
from __future__ import annotations

from services.openapi.schemas import (
    BOOL, CURRENCY, INT, STR, TIME, TIME_Q, arr, errors, json_ok, nullable, obj, op, query, tz,
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
            "One transaction with its status history, oldest change first, and its lines (name null "
            "and known false for a sku the catalogue does not hold)",
            {**json_ok(obj({"transaction": TRANSACTION,
                            "history": arr(obj({"status": STR, "at": TIME, "received_at": TIME})),
                            "items": arr(obj({"line": INT, "sku": STR, "name": nullable(STR), "known": BOOL,
                                              "quantity": INT, "amount_cents": INT}))})),
             **errors(404)},
            params=[_text_id("order_id")], tags=["explore"])},
    }


def _rows() -> dict:
    text = {"type": "string"}
    params = [
        {"name": "kind", "in": "path", "required": True,
         "schema": {"enum": ["transactions", "activities", "logs", "requests"]}},
        query("start", TIME_Q), query("end", TIME_Q), tz(),
        query("period", {"enum": ["hourly", "daily", "weekly"]},
              "With start/end: the revenue figures' range (15-minute edges, never past now)."),
        query("bucket", TIME_Q, "A bucket's start as the figure labels it (needs period)."),
        query("minutes", {"type": "integer", "minimum": 1, "maximum": 576000}, "Without start: how far back."),
        query("currency", CURRENCY), query("status", text, "Comma-separated statuses."),
        query("channel", text, "A channel, or (none)."), query("customer", text),
        query("user", text), query("action", text),
        query("weekday", {"type": "integer", "minimum": 0, "maximum": 6}, "Heatmap cell: Monday = 0."),
        query("hour", {"type": "integer", "minimum": 0, "maximum": 23}, "Heatmap cell: local hour."),
        query("level", text), query("service", text), query("q", text),
        query("endpoint", text), query("method", text), query("label", text),
        query("limit", {"type": "integer", "minimum": 1, "maximum": 500}), CURSOR,
    ]
    return {"/admin/api/explore/{kind}": {"get": op(
        "The rows behind a figure (transactions, activities, log lines or request minutes), newest "
        "first, with the figure's filters and what every matching row adds up to",
        {**json_ok(obj({"kind": STR, "start": TIME, "end": TIME, "tz": STR, "rows": arr(obj()),
                        "next_cursor": nullable(STR), "totals": nullable(obj())})), **errors(404)},
        params=params, tags=["explore"])}}


def _search() -> dict:
    hit = obj({"title": STR, "detail": STR, "href": STR})
    return {"/admin/api/search": {"get": op(
        "Search order ids, customer ids, alerts and recent log text; hits grouped by kind, each a link",
        json_ok(obj({"q": STR, "groups": arr(obj({"kind": STR, "label": STR, "hits": arr(hit)}))})),
        params=[query("q", {"type": "string", "minLength": 2}, "At least 2 characters.", required=True)],
        tags=["explore"])}}


def paths() -> dict:
    """The explore paths."""
    return {**_entities(), **_rows(), **_search()}
