"""Personal API tokens: list, create (the token is in the answer once), revoke.

Managing tokens needs a browser session: a token cannot mint or revoke tokens (403), so a
leaked token cannot outlive its expiry by making another.
"""
from __future__ import annotations

from functools import wraps

from flask import g, jsonify, request
from flask_login import current_user

import database
from blueprints.api.base import bp, json_body
from blueprints.errors import json_error
from services.accounts import tokens as api_tokens


def session_only(view):
    """Refuse (403) calls authenticated by an API token."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("api_token") is not None:
            return json_error(403, "API tokens are managed from a logged-in browser session, "
                              "not with a token.", "session_required")
        return view(*args, **kwargs)

    return wrapper


@bp.get("/tokens")
@session_only
def token_list():
    """The caller's own tokens (never the secrets), newest first."""
    now = database.utcnow()
    rows = api_tokens.list_for(database.get_session(), current_user.id)
    return jsonify({"tokens": [api_tokens.token_to_dict(t, now) for t in rows],
                    "scopes": list(api_tokens.SCOPES), "max_days": api_tokens.MAX_DAYS})


@bp.post("/tokens")
@session_only
def token_create():
    """Create a token; body {"name", "scope": "read"|"read-write", "expires_in_days"} (201).
    The answer's ``secret`` is the only time the token is shown."""
    session = database.get_session()
    row, secret = api_tokens.create(session, current_user, json_body(), request.remote_addr)
    session.commit()
    return jsonify({"token": api_tokens.token_to_dict(row), "secret": secret}), 201


@bp.delete("/tokens/<int:token_id>")
@session_only
def token_revoke(token_id: int):
    """Revoke one of the caller's tokens; it stops working at once."""
    session = database.get_session()
    row = api_tokens.revoke(session, current_user, token_id, request.remote_addr)
    session.commit()
    return jsonify({"token": api_tokens.token_to_dict(row)})
