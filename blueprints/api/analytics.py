"""JSON analytics: revenue buckets, recent transactions, user activity (cached, breaker-guarded)."""
from __future__ import annotations

from flask import jsonify, request

import database
from blueprints.api.base import BadParam, bp, int_arg, time_arg
from services.explore import compare as explore_compare
from services.insights import revenue as analytics
from services.insights import activity as analytics_activity
from services.infra import breaker as circuit_breaker
from services.insights import InsightParamError, zone


def _zone():
    try:
        return zone(request.args.get("tz"))
    except InsightParamError as exc:
        raise BadParam(str(exc), "tz") from None


@bp.get("/analytics/revenue")
def analytics_revenue():
    """Revenue buckets and summary for one currency; see services.insights.revenue.revenue."""
    period = request.args.get("period") or "daily"
    tz_name = request.args.get("tz") or "UTC"
    try:
        query = analytics.plan(period, time_arg("start"), time_arg("end"), tz_name,
                               database.utcnow())
    except InsightParamError as exc:
        raise BadParam(str(exc)) from None
    try:
        currency = analytics.normalise_currency(request.args.get("currency"))
    except InsightParamError as exc:
        raise BadParam(str(exc), "currency") from None
    compare = request.args.get("compare") or None
    if compare is not None and compare not in explore_compare.KINDS:
        raise BadParam(f"compare must be one of {', '.join(explore_compare.KINDS)}", "compare")
    key = ("revenue", period, tz_name, query.start, query.end, currency, compare)
    # Ranges ending "now" move with the clock: during an outage, the latest answer with the
    # same start stands in (its own start/end in the body say what it covers).
    latest = ("revenue-latest", period, tz_name, currency, compare,
              query.start if request.args.get("start") else None)
    tz = query.buckets.tz

    def compute():
        body = analytics.revenue(database.get_session(), query, currency)
        if compare:  # the overlay: the same figures over the previous period or a week earlier
            body["compare"] = explore_compare.comparison(database.get_session(), query, body["currency"],
                                                         compare, period, database.utcnow())
        return {"period": period, "tz": tz_name, "start": query.start.astimezone(tz).isoformat(),
                "end": query.end.astimezone(tz).isoformat(), **body}

    return jsonify(circuit_breaker.cached_read("analytics", key, compute, latest))


@bp.get("/analytics/transactions")
def analytics_transactions():
    """Status counts of the last ``minutes`` and the newest transactions."""
    minutes = int_arg("minutes", 60, 1, 7 * 24 * 60)
    limit = int_arg("limit", 20, 1, 200)
    now = database.utcnow()
    # One cache entry per minute (ingest invalidates it sooner); counted up to the real now.
    key = ("transactions", minutes, limit, now.replace(second=0, microsecond=0))
    return jsonify(circuit_breaker.cached_read("analytics", key, lambda: (
        analytics_activity.transactions(database.get_session(), now, minutes, limit)),
        key[:-1]))


@bp.get("/user-activity")
def user_activity():
    """Active users, the recent feed, counts by action and the weekday x hour heatmap."""
    minutes = int_arg("minutes", 30, 1, 24 * 60)
    limit = int_arg("limit", 50, 1, 500)
    days = int_arg("heatmap_days", 28, 1, 90)
    tz = _zone()
    now = database.utcnow()
    key = ("user-activity", minutes, limit, days, tz.key, now.replace(second=0, microsecond=0))
    return jsonify(circuit_breaker.cached_read("activity", key, lambda: (
        analytics_activity.user_activity(database.get_session(), now, minutes, limit, tz, days)),
        key[:-1]))
