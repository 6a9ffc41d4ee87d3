"""Paths of the OpenAPI document: API tokens, contact points, notification policies, inhibition,
maintenance windows and alerts raised by scripts (see ``openapi_spec``)."""
from __future__ import annotations

from services.openapi_spec import BOOL, INT, STR, TIME, arr, errors, json_ok, nullable, obj, op, path_id

TOKEN = obj({"id": INT, "name": STR, "prefix": STR, "scope": {"enum": ["read", "read-write"]},
             "state": {"enum": ["active", "expired", "revoked"]}, "created_at": TIME, "expires_at": TIME,
             "revoked_at": nullable(TIME), "last_used_at": nullable(TIME), "last_used_ip": nullable(STR)})


def _tokens() -> dict:
    token_in = obj({"name": STR}, {"scope": {"enum": ["read", "read-write"]},
                                   "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 365}})
    return {
        "/admin/api/tokens": {
            "get": op("The caller's API tokens (never the secrets); needs a browser session",
                      {**json_ok(obj({"tokens": arr(TOKEN), "scopes": arr(STR), "max_days": INT})),
                       **errors(403)}, tags=["tokens"]),
            "post": op("Create an API token; the answer's secret is shown only this once",
                       {**json_ok(obj({"token": TOKEN, "secret": STR}), 201), **errors(409)},
                       body=token_in, write=True, tags=["tokens"]),
        },
        "/admin/api/tokens/{token_id}": {"delete": op(
            "Revoke one of the caller's tokens", {**json_ok(obj({"token": TOKEN})), **errors(404)},
            params=[path_id("token_id")], write=True, tags=["tokens"])},
    }


def paths() -> dict:
    """Every path of this module."""
    return {**_tokens()}
