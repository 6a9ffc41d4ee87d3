"""Explore under /admin/api/: one customer, one order (drill-down rows and search beside them)."""
from __future__ import annotations

from flask import jsonify, request

import database
from blueprints.api.base import BadParam, bp, int_arg
from blueprints.errors import json_error
from services.explore import ExploreParamError
from services.explore import entities, rows, search


@bp.get("/customers/<path:customer_id>")
def customer_detail(customer_id: str):
    """``?limit=&cursor=`` → the customer's figures, activity and one page of transactions."""
    limit = int_arg("limit", 50, 1, entities.PAGE_LIMIT)
    try:
        body = entities.customer(database.get_session(), customer_id, limit=limit,
                                 cursor=request.args.get("cursor") or None)
    except ExploreParamError as exc:
        raise BadParam(exc.message, exc.field) from None
    if body is None:
        return json_error(404, f"No transaction or activity for customer {customer_id[:64]!r}.")
    return jsonify(body)


@bp.get("/orders/<path:order_id>")
def order_detail(order_id: str):
    """The transaction ``order_id`` with its status history."""
    body = entities.order(database.get_session(), order_id)
    if body is None:
        return json_error(404, f"No transaction {order_id[:64]!r}.")
    return jsonify(body)


@bp.get("/explore/<kind>")
def explore_rows(kind: str):
    """The rows behind a figure: ``kind`` is transactions, activities, logs or requests; the
    figure's own filters (range, tz, period, bucket, currency, status, channel, endpoint, level…)."""
    if kind not in rows.KINDS:
        return json_error(404, f"Unknown kind {kind[:40]!r}; one of {', '.join(rows.KINDS)}.")
    limit = int_arg("limit", 100, 1, rows.MAX_LIMIT)
    try:
        body = rows.explore(database.get_session(), kind, request.args, database.utcnow(), limit,
                            request.args.get("cursor") or None)
    except ExploreParamError as exc:
        raise BadParam(exc.message, exc.field) from None
    return jsonify(body)


@bp.get("/search")
def search_view():
    """``?q=`` → hits grouped by kind (orders, customers, alerts, log lines), each with its link."""
    try:
        return jsonify(search.search(database.get_session(), request.args.get("q") or "", database.utcnow()))
    except ExploreParamError as exc:
        raise BadParam(exc.message, exc.field) from None
