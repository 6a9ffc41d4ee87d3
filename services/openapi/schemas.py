"""The building blocks of the OpenAPI document: schema shorthands, parameters, errors, components.

``spec`` assembles the document from the path builders (``paths``, ``paths_ops``); all three
use these pieces, so they live apart and the builders never import the assembler.
"""
from __future__ import annotations

from typing import Any

from services.infra import DEFAULT_QUERY_CAP, MAX_ID, QUERY_CAPS

ERROR = {"$ref": "#/components/schemas/Error"}
TIME = {"type": "string", "format": "date-time"}
NUM = {"type": "number"}
INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
# Times in a query: ISO 8601 (a date alone, or no offset, means UTC); empty means "not given".
TIME_Q = {"type": "string", "anyOf": [{"format": "date-time"}, {"format": "date"}]}
CURRENCY = {"type": "string", "pattern": "^[A-Za-z]{3}$"}
STALE = {"stale": BOOL, "as_of": {"anyOf": [TIME, {"type": "null"}]}}
CSRF = [{"session": [], "csrf": []}]
REASONS = {
    400: "Bad parameter or body, or a missing CSRF token", 401: "Not logged in, or a bad key",
    403: "Needs the admin role", 404: "No such item", 409: "Conflicts with the current state",
    413: "Body too large", 415: "Not JSON", 429: "Rate limited",
    503: "The database is unavailable (database_unavailable; see Retry-After)",
}


def obj(required: dict[str, Any] | None = None, optional: dict[str, Any] | None = None) -> dict:
    """An object schema with ``required`` properties; more properties may be added later."""
    props = {**(required or {}), **(optional or {})}
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


def arr(items: dict) -> dict:
    """An array of ``items``."""
    return {"type": "array", "items": items}


def nullable(schema: dict) -> dict:
    """``schema`` or null (OpenAPI 3.1 / JSON Schema style)."""
    return {"anyOf": [schema, {"type": "null"}]}


# Query text may hold no control characters (see services.infra.input_checks).
NO_CONTROL = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"


def query(name: str, schema: dict, description: str = "", required: bool = False) -> dict:
    """A query parameter; an optional one may also be sent empty, which means "not given".

    Text parameters carry their length cap and the no-control-characters rule, so clients
    (and the fuzz suite) see the limits the server enforces.
    """
    if schema.get("type") == "string":
        schema = {"pattern": NO_CONTROL, **schema,
                  "maxLength": QUERY_CAPS.get(name, DEFAULT_QUERY_CAP)}
    if not required:
        schema = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}


def path_id(name: str = "id") -> dict:
    """An integer path parameter: an id of a 32-bit id column (larger ones answer 404)."""
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def minutes(default: int, maximum: int) -> dict:
    """The usual ``minutes`` window parameter."""
    return query("minutes", {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
                 "How far back to look, in minutes.")


def tz() -> dict:
    """The ``tz`` parameter: an IANA time zone name."""
    return query("tz", STR, "IANA time zone for bucket edges and returned times (default UTC).")


def range_params() -> list[dict]:
    """``start``, ``end`` (ISO 8601) and ``tz``."""
    return [query("start", TIME_Q), query("end", TIME_Q), tz()]


def errors(*codes: int) -> dict:
    """Error responses for ``codes``, all in the shared error shape."""
    return {str(code): {"description": REASONS.get(code, "Error"),
                        "content": {"application/json": {"schema": ERROR}}} for code in codes}


def json_ok(schema: dict, status: int = 200, description: str = "OK") -> dict:
    """A JSON success response."""
    return {str(status): {"description": description, "content": {"application/json": {"schema": schema}}}}


def op(summary: str, responses: dict, *, params: list | None = None, body: dict | None = None,
       body_required: bool = True, write: bool = False, admin: bool = False, unavailable: bool = True,
       tags: list[str] | None = None) -> dict:
    """One operation under /admin/api: login needed (401); writes need CSRF (400) and maybe admin (403).

    Anything that needs the database answers 503 while it is down and no earlier answer can
    stand in; ``unavailable=False`` marks the few operations that never touch it.
    """
    codes = [401] + ([400, 403] if write or admin else [])
    if params:
        codes.append(400)
    if body is not None:
        codes += [400, 413, 415]
    if unavailable:
        codes.append(503)
    operation: dict[str, Any] = {"summary": summary, "tags": tags or [],
                                 "responses": {**errors(*sorted(set(codes))), **responses}}
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": body_required,
                                    "content": {"application/json": {"schema": body}}}
    if write:
        operation["security"] = CSRF
    return operation


COMPONENTS = {
    "schemas": {
        "Error": obj({"error": obj({"code": STR, "message": STR})}),
    },
    "securitySchemes": {
        "session": {"type": "apiKey", "in": "cookie", "name": "admin_session",
                    "description": "The session cookie set by POST /admin/login."},
        "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                 "description": "The token every page carries in <meta name=\"csrf-token\">."},
        "ingestKey": {"type": "http", "scheme": "bearer", "description": "INGEST_API_KEY"},
        "apiToken": {"type": "http", "scheme": "bearer",
                     "description": "A personal API token (Settings): acts as its owner on /admin/api/* "
                                    "without a cookie or CSRF token; a read token is refused writes (403)."},
    },
}
