"""GET /admin/api/logs: filtered log entries, newest first, paged by cursor."""
from __future__ import annotations

from flask import current_app, jsonify, request

import database
from blueprints.api import BadParam, bp, int_arg, time_arg
from services import logs


@bp.get("/logs")
def list_logs():
    """``?level=&service=&q=&since=&until=&limit=&cursor=`` → ``{"logs", "next_cursor", "handler"}``."""
    try:
        filters = logs.LogFilters.from_mapping(request.args)
        filters.since = time_arg("since")
        filters.until = time_arg("until")
        rows, next_cursor = logs.query_logs(database.get_session(), filters,
                                            limit=int_arg("limit", 100, 1, logs.MAX_LIMIT),
                                            cursor=request.args.get("cursor") or None)
    except logs.LogQueryError as exc:
        raise BadParam(exc.message, exc.field) from None
    handler = current_app.extensions.get("log_handler")
    return jsonify({
        "logs": [logs.to_dict(row) for row in rows],
        "next_cursor": next_cursor,
        # How many of this process's own records were dropped because the queue was full.
        "handler": handler.stats() if handler is not None else None,
    })
