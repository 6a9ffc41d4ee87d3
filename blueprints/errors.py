"""One error handler: JSON for API routes, a friendly HTML page otherwise, never a stack trace."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from services.infra import breaker as circuit_breaker
import database
from services.accounts import audit

log = logging.getLogger(__name__)
OUTAGE_MESSAGE = "The database is unavailable right now; try again in a few seconds."

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "unprocessable", 429: "rate_limited",
    500: "internal_error", 503: "unavailable",
}


def wants_json() -> bool:
    """API paths always answer JSON; so does a client that only accepts JSON."""
    path = request.path
    if path.startswith("/admin/api/") or path.startswith("/api/") or path == "/admin/api":
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def json_error(status: int, message: str, code: str | None = None, **extra):
    """The contract's error body ``{"error": {"code", "message"}}`` with ``status``."""
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message, **extra}}
    return jsonify(body), status


def _render(status: int, code: str, message: str, headers=None):
    if wants_json():
        resp = jsonify({"error": {"code": code, "message": message}})
    else:
        resp = make_response(render_template("errors/error.html", status=status, message=message))
    resp.status_code = status
    for key, value in headers or []:
        if key.lower() in ("retry-after", "allow"):
            resp.headers[key] = value
    return resp


def handle_http(exc: HTTPException):
    """Render any HTTP error in the right format, keeping headers such as Retry-After."""
    status = exc.code or 500
    message = exc.description if status != 500 else "Something went wrong on our side."
    headers = exc.get_response().headers.items() if status in (405, 429) else None
    return _render(status, CODES.get(status, "error"), message, headers)


def handle_csrf(exc: CSRFError):
    """A missing or wrong CSRF token: 400 with a code clients can recognise."""
    return _render(400, "csrf_failed", f"CSRF check failed: {exc.description}")


def handle_outage(exc: Exception):
    """The database is down: 503 ``database_unavailable`` with Retry-After, never a 500.

    Every request fails the same way meanwhile, so this is logged once a minute, without
    a traceback (see ``circuit_breaker.note_outage``).
    """
    circuit_breaker.note_outage(log, f"serving {request.method} {request.path}: answered 503", exc)
    message = str(exc) if isinstance(exc, circuit_breaker.Unavailable) else OUTAGE_MESSAGE
    return _render(503, "database_unavailable", message,
                   [("Retry-After", str(circuit_breaker.RETRY_AFTER_SECONDS))])


def handle_unexpected(exc: Exception):
    """Log the traceback; show the user only that something failed (503 for an outage)."""
    if isinstance(exc, HTTPException):
        return handle_http(exc)
    if circuit_breaker.is_outage(exc):
        return handle_outage(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http(InternalServerError())


def audit_forbidden(response):
    """Record every 403 (aborted, refused by a decorator or by a view) in the audit trail."""
    if response.status_code != 403:
        return response
    from flask_login import current_user

    actor = current_user.username if current_user and current_user.is_authenticated else None
    try:
        # A session of its own: the request's may hold work that must not be committed.
        with database.session_scope() as session:
            audit.record(session, "forbidden", actor=actor, ip=request.remote_addr,
                         target=f"{request.method} {request.path}", outcome="denied")
    except Exception as exc:  # the refusal itself must still reach the client
        circuit_breaker.log_failure(log, "recording a 403 in the audit trail", exc)
    return response


def init_app(app: Flask) -> None:
    """Register the handlers on ``app``."""
    app.after_request(audit_forbidden)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
