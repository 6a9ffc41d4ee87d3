"""``POST /api/v1/heartbeat/<token>``: a push monitor's heartbeat.

The token in the path is the credential (random, one per monitor), so there is no cookie and
no CSRF token; an unknown token answers 404. Rate limited per token.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_limiter.util import get_remote_address

import database
from blueprints.errors import json_error
from blueprints.request_input import read_json
from extensions import limiter
from services.checks import service
from services.checks.service import MonitorNotFound

bp = Blueprint("heartbeat_api", __name__, url_prefix="/api/v1")


def _rate_key() -> str:
    # The token's first characters tell monitors apart without keeping the secret in the limiter.
    return "heartbeat:" + (request.view_args or {}).get("token", "")[:12]


@bp.post("/heartbeat/<token>")
@limiter.limit(lambda: current_app.config["HEARTBEAT_RATE_LIMIT"], key_func=_rate_key)
# Per address too: guessing tokens (a new one each time) must not escape the per-token limit.
@limiter.limit(lambda: current_app.config["HEARTBEAT_RATE_LIMIT_IP"], key_func=get_remote_address)
def heartbeat(token: str):
    """Record a heartbeat; optional JSON body {"status": "up"|"down", "message": "..."}."""
    body = read_json(required=False) if request.get_data(cache=True) else None
    session = database.get_session()
    try:
        monitor = service.heartbeat(session, token, body)
    except MonitorNotFound as exc:
        return json_error(404, str(exc))
    session.commit()
    return jsonify({"ok": True, "monitor": monitor.name, "status": monitor.last_push_status,
                    "received_at": monitor.last_push_at.isoformat()})
