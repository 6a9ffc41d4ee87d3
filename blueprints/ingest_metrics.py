"""``POST /api/v1/metrics`` (JSON) and ``/api/v1/metrics/prometheus`` (text format) on the ingest
blueprint: the same key, limit and answers as ``/api/v1/events``; the work is in ``services.metrics``."""
from __future__ import annotations

import logging

from flask import current_app, jsonify, request
from sqlalchemy.exc import DataError, SQLAlchemyError

import database
from blueprints.errors import json_error
from blueprints.ingest_api import bp, ingest_limit, refuse_without_key
from blueprints.request_input import read_json
from services import metrics
from services.infra import breaker as circuit_breaker

log = logging.getLogger(__name__)


def _store(work):
    try:
        body = work()
    except metrics.MetricError as exc:
        return jsonify({"error": exc.as_error()}), exc.status
    except DataError:
        log.warning("metrics ingest: the database refused a value of a batch")
        return json_error(400, "The database refused a value of this batch; nothing was stored.",
                          "invalid_item")
    except SQLAlchemyError as exc:
        circuit_breaker.log_failure(log, "metrics ingest: storing a batch", exc)
        resp, status = json_error(503, "The database is unavailable; nothing was stored. Retry later.",
                                  "database_unavailable")
        resp.headers["Retry-After"] = str(circuit_breaker.RETRY_AFTER_SECONDS)
        return resp, status
    return jsonify(body), 202


@bp.route("/metrics", methods=["POST"])
@ingest_limit
def post_metrics():
    """Store at most 1000 points in one transaction; 202 with the counts, 400 naming the item."""
    refused = refuse_without_key()
    if refused is not None:
        return refused
    body = read_json(check_text=False)
    return _store(lambda: metrics.ingest_json(database.get_session(), body, current_app.config)
                  .as_json())


@bp.route("/metrics/prometheus", methods=["POST"])
@ingest_limit
def post_prometheus():
    """Store the samples of a Prometheus text exposition (any exporter's output, as it is)."""
    refused = refuse_without_key()
    if refused is not None:
        return refused
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return json_error(400, "The body must be UTF-8 text in the Prometheus exposition format.",
                          "invalid_body", field="body")
    if "\x00" in text:
        return json_error(400, "The body holds a NUL character.", "invalid_body", field="body")
    return _store(lambda: metrics.ingest_prometheus(database.get_session(), text, current_app.config))
