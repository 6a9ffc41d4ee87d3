"""JSON: the live snapshot, system samples and per-endpoint performance (routes on ``api.bp``)."""
from __future__ import annotations

from flask import jsonify, request

import database
from blueprints.api.base import BadParam, bp, int_arg
from services.infra import breaker as circuit_breaker
from services.live import scheduler as live
from services.monitor import stats as performance_stats

LABELS = ("panel-api", "page", "ingest", "app")


@bp.get("/metrics/live")
def metrics_live():
    """The same snapshot ``live_update`` carries (the last one, marked stale, in an outage)."""
    return jsonify(circuit_breaker.or_last_cached(live.CACHE_NAMESPACE, live.CACHE_KEY,
                                                  live.current_snapshot))


@bp.get("/metrics/system")
def metrics_system():
    """System samples of the last ``minutes`` (1..1440) under ``points``."""
    minutes = int_arg("minutes", 60, 1, 1440)
    return jsonify(circuit_breaker.fresh_read(("system", minutes), lambda: (
        performance_stats.system_series(database.get_session(), minutes))))


@bp.get("/performance")
def performance():
    """Per endpoint (``endpoints``) and per minute (``timeline``) over ``minutes`` (1..1440).

    ``label`` (panel-api, page, ingest, app) narrows to one kind of traffic.
    """
    minutes = int_arg("minutes", 60, 1, 1440)
    label = request.args.get("label") or None
    if label is not None and label not in LABELS:
        raise BadParam(f"label must be one of {', '.join(LABELS)}")
    return jsonify(circuit_breaker.fresh_read(("performance", minutes, label), lambda: (
        performance_stats.endpoint_stats(database.get_session(), minutes, label=label))))
