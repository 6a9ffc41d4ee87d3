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
from services.validation import ValidationError, parse_query_time

bp = Blueprint("api", __name__, url_prefix="/admin/api")


@bp.before_request
def require_login():
    """No JSON without a session."""
    if not current_user.is_authenticated:
        return json_error(401, "Log in to use this API.")
    return None


def admin_required(view):
    """Refuse (403) anyone who is not an admin."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            return json_error(403, "This action needs the admin role.")
        return view(*args, **kwargs)

    return wrapper


class BadParam(ValueError):
    """A query or body parameter is missing or malformed (answered 400)."""


@bp.errorhandler(BadParam)
def _bad_param(exc: BadParam):
    return json_error(400, str(exc), "invalid_parameter")


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    """An integer query parameter within [lo, hi]; BadParam otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParam(f"{name} must be an integer") from None
    if not lo <= value <= hi:
        raise BadParam(f"{name} must be between {lo} and {hi}")
    return value


def time_arg(name: str, default: datetime | None = None) -> datetime | None:
    """An ISO 8601 query parameter as aware UTC (naive means UTC); BadParam otherwise."""
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        # A "+" in a query string arrives as a space.
        return parse_query_time(raw.replace(" ", "+"), name)
    except ValidationError as exc:
        raise BadParam(str(exc)) from None


def json_body() -> dict:
    """The request's JSON object; BadParam when the body is not one."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadParam("the body must be a JSON object")
    return body
