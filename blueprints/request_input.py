"""Reading a request's input the same way on every route: JSON bodies and query parameters.

``read_json`` is the one JSON body reader (content type, size, nesting depth, text a database
can store); ``check_query_args`` caps every query parameter before a view sees it. Both raise
``InputError``, which ``init_app`` answers as a JSON error naming the field.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request

from blueprints.errors import json_error
from services.infra import InputError, check_query, parse_json, unstorable_path

def read_json(*, required: bool = True, check_text: bool = True) -> Any:
    """The request's JSON body, parsed; None when it is empty and not ``required``.

    A body sent as anything but JSON is refused with 415 (so a sender learns at once that it
    must say ``Content-Type: application/json``); one over ``MAX_CONTENT_LENGTH`` with 413 by
    Werkzeug. ``check_text`` refuses NUL and lone surrogates anywhere in the document; callers
    that validate every field they keep (ingest) turn it off and say which item was wrong.
    """
    raw = request.get_data(cache=True)
    if not raw:
        if required:
            raise InputError("the body must be a JSON object", "body", "invalid_body")
        return None
    if not request.is_json:
        raise InputError("send the body as JSON with 'Content-Type: application/json'", "body",
                         "unsupported_media_type", 415)
    body = parse_json(raw)
    if check_text:
        path = unstorable_path(body)
        if path is not None:
            raise InputError(f"{path} contains a NUL character or a lone surrogate", path,
                             "invalid_text")
    return body


def check_query_args() -> None:
    """Every query parameter within its length cap and free of control characters."""
    check_query(request.args.items(multi=True))


def _answer(exc: InputError):
    return json_error(exc.status, exc.message, exc.code,
                      **({"field": exc.field[:120]} if exc.field else {}))


def init_app(app: Flask) -> None:
    """Answer ``InputError`` from any route as a JSON error."""
    app.register_error_handler(InputError, _answer)
