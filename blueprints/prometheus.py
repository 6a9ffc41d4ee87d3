"""``GET /metrics``: the Prometheus text format, behind a bearer token.

Without ``METRICS_TOKEN`` the endpoint does not exist (404), so a panel never exposes its
figures by accident; a missing or wrong token answers 401.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request

from blueprints.errors import json_error
from services.prometheus import exposition as prometheus_metrics

bp = Blueprint("metrics", __name__)


def _token_ok(expected: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    # Constant time, so response timing says nothing about how much of the token matched.
    return hmac.compare_digest(given.strip().encode(), expected.encode())


@bp.route("/metrics")
def metrics():
    """Every panel metric family in the Prometheus exposition format."""
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        return json_error(404, "Metrics are disabled: set METRICS_TOKEN to enable them.")
    if not _token_ok(expected):
        resp, status = json_error(401, "A valid bearer token is required.")
        resp.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return resp, status
    body, headers = prometheus_metrics.exposition(current_app, request.headers.get("Accept-Encoding", ""))
    return Response(body, mimetype=None, headers=headers)
