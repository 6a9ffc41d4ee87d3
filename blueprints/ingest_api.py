"""``POST /api/v1/events``: other services send transactions, activities and logs.

Authentication is a bearer key (``INGEST_API_KEY``), compared in constant time;
no cookie, hence no CSRF token (the blueprint is CSRF-exempt). The work is in
``services.ingest.store``; this module only authenticates, limits and answers.
"""
from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import DataError, SQLAlchemyError

import database
from extensions import limiter
from blueprints.errors import json_error
from blueprints.request_input import read_json
from services.accounts import audit
from services.infra import breaker as circuit_breaker
from services.ingest import store as ingest

bp = Blueprint("ingest_api", __name__, url_prefix="/api/v1")
log = logging.getLogger(__name__)


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _key_is_valid(presented: str | None) -> bool:
    expected = current_app.config.get("INGEST_API_KEY")
    if not expected or presented is None:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def _rate_key() -> str:
    """Limit per key (by its hash, never the key itself); callers without a valid key per address."""
    presented = _presented_key()
    if _key_is_valid(presented):
        return "ingest-key:" + hashlib.sha256(presented.encode()).hexdigest()[:24]
    return f"ingest-anon:{request.remote_addr}"


def _audit_bad_key(reason: str) -> None:
    db = database.get_session()
    try:
        audit.record(db, "ingest.bad_key", actor=None, ip=request.remote_addr,
                     target=request.path, outcome="failure", detail={"reason": reason})
        db.commit()
    except SQLAlchemyError as exc:
        db.rollback()
        circuit_breaker.log_failure(log, "auditing a refused ingest key", exc)


def refuse_without_key():
    """The answer refusing a caller without the ingest key (503 when none is set); None when valid."""
    if not current_app.config.get("INGEST_API_KEY"):
        return json_error(503, "The ingest API is disabled: INGEST_API_KEY is not set.", "not_configured")
    presented = _presented_key()
    if not _key_is_valid(presented):
        _audit_bad_key("missing" if presented is None else "wrong")
        resp, status = json_error(401, "Send the ingest key as 'Authorization: Bearer <key>'.")
        resp.headers["WWW-Authenticate"] = 'Bearer realm="ingest"'
        return resp, status
    return None


def ingest_limit(view):
    """``INGEST_RATE_LIMIT`` per key on ``view`` (each ingest route counts on its own)."""
    return limiter.limit(lambda: current_app.config["INGEST_RATE_LIMIT"], key_func=_rate_key)(view)


@bp.route("/events", methods=["POST"])
@ingest_limit
def post_events():
    """Store one batch of at most 1000 items in one transaction; 202 with the counts."""
    refused = refuse_without_key()
    if refused is not None:
        return refused
    # JSON only (415 otherwise), at most MAX_CONTENT_LENGTH (413), nested no deeper than a batch
    # can be; every text field is checked by the item validators, which name the item.
    body = read_json(check_text=False)
    try:
        result = ingest.ingest_batch(database.get_session(), body)
    except ingest.ValidationError as exc:
        return jsonify({"error": exc.as_error()}), 413 if exc.code == "too_many_items" else 400
    except DataError:
        # A value the database refused is the sender's to fix, not an outage to retry.
        log.warning("ingest: the database refused a value of a batch")
        return json_error(400, "The database refused a value of this batch; nothing was stored.",
                          "invalid_item")
    except SQLAlchemyError as exc:
        circuit_breaker.log_failure(log, "ingest: storing a batch", exc)
        resp, status = json_error(503, "The database is unavailable; nothing was stored. Retry later.",
                                  "database_unavailable")
        resp.headers["Retry-After"] = str(circuit_breaker.RETRY_AFTER_SECONDS)
        return resp, status
    answer = {"accepted": result.accepted(), "changed": result.changed}
    if result.unknown_skus is not None:  # lines naming a sku no product has: stored, and said so
        answer["unknown_skus"] = result.unknown_skus
    return jsonify(answer), 202
