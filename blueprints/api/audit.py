"""GET /admin/api/audit: the audit trail for admins (read-only; there is no write route)."""
from __future__ import annotations

from dataclasses import astuple

from flask import jsonify, request

import database
from blueprints.api.base import BadParam, admin_required, bp, int_arg, time_arg
from services.accounts import audit_trail
from services.infra import breaker as circuit_breaker


@bp.get("/audit")
@admin_required
def list_audit():
    """``?actor=&action=&outcome=&since=&until=&limit=&cursor=`` → ``{"entries", "next_cursor"}``."""
    args = request.args
    filters = audit_trail.AuditFilters(
        actor=(args.get("actor") or "").strip() or None,
        action=(args.get("action") or "").strip() or None,
        outcome=(args.get("outcome") or "").strip() or None,
        since=time_arg("since"), until=time_arg("until"),
    )
    limit = int_arg("limit", 100, 1, audit_trail.MAX_LIMIT)
    cursor = args.get("cursor") or None

    def read():
        rows, next_cursor = audit_trail.query_audit(database.get_session(), filters, limit=limit,
                                                    cursor=cursor)
        return {"entries": [audit_trail.to_dict(r) for r in rows], "next_cursor": next_cursor}

    try:
        # Always fresh; while the database is down, the last answer to the same question.
        return jsonify(circuit_breaker.fresh_read(("audit", astuple(filters), limit, cursor), read))
    except audit_trail.LogQueryError as exc:
        raise BadParam(exc.message, exc.field) from None
