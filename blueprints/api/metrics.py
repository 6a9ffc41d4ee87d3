"""JSON: the metric catalogue and the metric query, built-in and pushed alike (routes on ``api.bp``)."""
from __future__ import annotations

from flask import current_app, jsonify, request

import database
from blueprints.api.base import bp, time_arg
from blueprints.errors import json_error
from services import metrics


@bp.get("/metrics/catalog")
def metrics_catalog():
    """Every series: name, labels, type, unit, last value and time, points per minute (``q`` filters names)."""
    return jsonify(metrics.catalog(database.get_session(), current_app.config,
                                   request.args.get("q") or None))


@bp.get("/metrics/query")
def metrics_query():
    """Points per series of one metric: ``name``, ``match``, ``agg``, ``step``, ``start``, ``end``, ``group_by``."""
    try:
        answer = metrics.query(database.get_session(), request.args, current_app.config, time_arg)
    except metrics.MetricError as exc:
        return json_error(400, exc.message, "invalid_parameter", field=exc.field)
    return jsonify(answer)
