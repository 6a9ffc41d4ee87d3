"""The OpenAPI 3.1 description of the JSON API (/admin/api/*) and the ingest API (/api/v1/events).

The paths live in ``services.openapi.paths`` and ``paths_ops`` (one builder per concern), the
shared pieces (errors, security, parameters) in ``services.openapi.schemas``; this module
assembles the document. A test walks the
app's URL map and fails when a route is missing here, and a fuzz run checks every answer
against these schemas, so the document stays true as routes are added.
"""
from __future__ import annotations

import re
from copy import deepcopy
from functools import lru_cache
from typing import Any

from flask import Flask

from services.openapi import paths as openapi_paths
from services.openapi.schemas import COMPONENTS

@lru_cache(maxsize=1)
def _build() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Admin panel API", "version": "1.0.0",
                 "description": "Logged-in JSON API of the admin panel and the ingest API for other "
                                "services. Money is integer minor units; times are ISO 8601."},
        "servers": [{"url": "/"}],
        "security": [{"session": []}, {"apiToken": []}],
        "paths": openapi_paths.paths(),
        "components": COMPONENTS,
    }


def spec() -> dict[str, Any]:
    """The whole document, every path described (a fresh copy, so callers may change it)."""
    return deepcopy(_build())


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: ``/alerts/<int:alert_id>`` becomes ``/alerts/{alert_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def documented_prefix(rule: str) -> bool:
    """Whether a route belongs in the document."""
    return rule.startswith(("/admin/api/", "/api/v1/"))


def spec_for(app: Flask) -> dict[str, Any]:
    """The document restricted to the routes and methods ``app`` really serves."""
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if documented_prefix(rule.rule):
            served.setdefault(openapi_path(rule.rule), set()).update(
                m.lower() for m in rule.methods or ())
    document = spec()
    document["paths"] = {
        path: {method: operation for method, operation in item.items() if method in served[path]}
        for path, item in document["paths"].items() if path in served
    }
    return document
