"""Load-balancer probe: ``GET /healthz`` (no login, no details)."""
from __future__ import annotations

import logging

from flask import Blueprint
from sqlalchemy.exc import SQLAlchemyError

import database
from services.infra import breaker as circuit_breaker

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.route("/healthz")
def healthz():
    """200 ``ok`` while the process is up and the database answers; 503 otherwise."""
    try:
        database.ping()
    except SQLAlchemyError as exc:
        circuit_breaker.log_failure(log, "answering /healthz", exc)
        return "database unavailable", 503, {"Content-Type": "text/plain"}
    return "ok", 200, {"Content-Type": "text/plain"}
