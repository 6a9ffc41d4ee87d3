"""GET /admin/api/logs: filtered log entries, newest first, paged by cursor."""
from __future__ import annotations

from dataclasses import astuple

from flask import current_app, jsonify, request

import database
from blueprints.api.base import BadParam, bp, int_arg, time_arg
from services.infra import breaker as circuit_breaker
from services.logs import query as logs


@bp.get("/logs")
def list_logs():
    """``?level=&service=&q=&since=&until=&limit=&cursor=`` → ``{"logs", "next_cursor", "handler"}``."""
    try:
        filters = logs.LogFilters.from_mapping(request.args)
        filters.since = time_arg("since")
        filters.until = time_arg("until")
        limit = int_arg("limit", 100, 1, logs.MAX_LIMIT)
        cursor = request.args.get("cursor") or None
        # Always read fresh; while the database is down, the last answer to the same question.
        body = circuit_breaker.fresh_read(("logs", astuple(filters), limit, cursor), lambda: (
            logs.page(database.get_session(), filters, limit=limit, cursor=cursor)))
    except logs.LogQueryError as exc:
        raise BadParam(exc.message, exc.field) from None
    handler = current_app.extensions.get("log_handler")
    # This process's own records: queued, written, dropped (queue full), and whether the
    # writer is waiting for the database. Current even when the entries are stale.
    body["handler"] = handler.stats() if handler is not None else None
    return jsonify(body)
