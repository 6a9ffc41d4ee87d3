"""JSON: the live snapshot, system samples and per-endpoint performance (routes on ``api.bp``)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, jsonify, request

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
    exclude = tuple(sorted({x for x in (request.args.get("exclude") or "").split(",") if x}))
    if any(x not in LABELS for x in exclude):
        raise BadParam(f"exclude must list labels among {', '.join(LABELS)}", "exclude")
    body = circuit_breaker.fresh_read(("performance", minutes, label, exclude), lambda: (
        performance_stats.endpoint_stats(database.get_session(), minutes, label=label, exclude=exclude)))
    rules = _url_rules()
    body = {**body, "endpoints": [{**e, "rule": rules.get(e["endpoint"])} for e in body["endpoints"]]}
    compare = request.args.get("compare") or None
    if compare is not None:
        if compare not in ("previous", "week"):
            raise BadParam("compare must be one of previous, week", "compare")
        # The traffic overlay: the same window just before, or a week earlier, minute by minute.
        shift = timedelta(minutes=minutes) if compare == "previous" else timedelta(days=7)
        then = datetime.fromisoformat(body["until"]) - shift
        other = performance_stats.endpoint_stats(database.get_session(), minutes, now=then, label=label,
                                                 exclude=exclude, past=True)
        body["compare"] = {"kind": compare, "since": other["since"], "until": other["until"],
                           "timeline": [{"minute": p["minute"], "count": p["count"]} for p in other["timeline"]],
                           "count": other["summary"]["count"]}
    return jsonify(body)


def _url_rules() -> dict[str, str]:
    """Each endpoint's URL rule (its first, when it has several), shown beside its name."""
    rules: dict[str, str] = {}
    for rule in current_app.url_map.iter_rules():
        rules.setdefault(rule.endpoint, rule.rule)
    return rules
