"""The JSON API under /admin/api/: one blueprint, routes grouped in modules by concern.

Every route here answers 401 JSON without a login (checked once, below), and every
state change is refused to viewers by ``blueprints.security``.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import wraps

from flask import Blueprint, request
from flask_login import current_user

from blueprints.errors import json_error
from blueprints.request_input import check_query_args, read_json
from services.accounts import audit
from services.infra import InputError, ascii_int
from services.ingest import ValidationError, parse_query_time

bp = Blueprint("api", __name__, url_prefix="/admin/api")


@bp.before_request
def require_login():
    """No JSON without a session."""
    if not current_user.is_authenticated:
        return json_error(401, "Log in to use this API.")
    return None


# After the login check: an anonymous caller learns only that it must log in.
bp.before_request(check_query_args)


def admin_required(view):
    """Refuse (403) anyone who is not an admin."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            return json_error(403, "This action needs the admin role.")
        return view(*args, **kwargs)

    return wrapper


class BadParam(InputError):
    """A query or body parameter is missing or malformed (answered 400, naming ``field``)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field)


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    """An integer query parameter within [lo, hi]; BadParam otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return ascii_int(raw, name, lo, hi)


def time_arg(name: str, default: datetime | None = None) -> datetime | None:
    """An ISO 8601 query parameter as aware UTC (naive means UTC); BadParam otherwise."""
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        # A "+" in a query string arrives as a space.
        return parse_query_time(raw.replace(" ", "+"), name)
    except ValidationError as exc:
        raise BadParam(str(exc), name) from None


def json_body(required: bool = True) -> dict:
    """The request's JSON object (``{}`` when an optional body is left out); BadParam when the
    body is not an object, InputError when it is not JSON at all (see ``read_json``)."""
    body = read_json(required=required)
    if body is None and not request.get_data(cache=True):
        return {}  # left out; a JSON null is not an object and is refused below
    if not isinstance(body, dict):
        raise BadParam("the body must be a JSON object", "body")
    return body


def audit_admin(session, action: str, target: str, detail: dict | None = None) -> None:
    """Record an admin's change in the audit trail, as the signed-in user from their address."""
    audit.record(session, action, actor=current_user.username, ip=request.remote_addr,
                 target=target, detail=detail)
