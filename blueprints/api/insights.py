"""Business insights under /admin/api/: customers, channels, the shared timeline, the monitor's cost."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, jsonify, request

import database
from blueprints.api.base import BadParam, bp, int_arg, time_arg
from services.insights import revenue as analytics
from services.infra import breaker as circuit_breaker
from services.monitor import self_cost
from services.insights import InsightParamError, fixed_buckets, period_buckets, resolve_range, zone
from services.insights import channel_insights
from services.insights import customer_insights
from services.insights import STEP, build_timeline


def _period_and_buckets(default_period: str):
    period = request.args.get("period") or default_period
    try:
        tz = zone(request.args.get("tz"))
        start, end = resolve_range(time_arg("start"), time_arg("end"), period, database.utcnow())
        return period, tz, period_buckets(start, end, period, tz)
    except InsightParamError as exc:
        raise BadParam(str(exc)) from None


def _currency_arg() -> str | None:
    try:
        return analytics.normalise_currency(request.args.get("currency"))
    except InsightParamError as exc:
        raise BadParam(str(exc), "currency") from None


def _answer(namespace: str, key: tuple, fn):
    # Through the database breaker: a stale cached answer while the database is down, else
    # Unavailable, answered 503 by the API's shared handler like every other read.
    return jsonify(circuit_breaker.cached_read(namespace, key, fn))


@bp.route("/analytics/customers")
def analytics_customers():
    """New vs returning customers per bucket, repeat purchases, value per customer, conversion."""
    period, tz, buckets = _period_and_buckets("daily")

    def compute():
        data = customer_insights(database.get_session(), buckets)
        return {"period": period, "tz": tz.key, "start": buckets.start.astimezone(tz).isoformat(),
                "end": buckets.end.astimezone(tz).isoformat(), **data}

    return _answer("analytics", ("customers", period, tz.key, buckets.start, buckets.end), compute)


@bp.route("/analytics/channels")
def analytics_channels():
    """Revenue, orders, success rate and average order per sales channel, side by side."""
    period, tz, buckets = _period_and_buckets("daily")
    currency = _currency_arg()

    def compute():
        data = channel_insights(database.get_session(), buckets, currency)
        return {"period": period, "tz": tz.key, "start": buckets.start.astimezone(tz).isoformat(),
                "end": buckets.end.astimezone(tz).isoformat(), **data}

    return _answer("analytics", ("channels", period, tz.key, buckets.start, buckets.end, currency), compute)


@bp.route("/timeline")
def timeline():
    """Revenue, failed payments, errors and p95 on one 15-minute axis, with alert windows."""
    hours = int_arg("hours", 24, 1, 168)
    currency = _currency_arg()
    try:
        tz = zone(request.args.get("tz"))
    except InsightParamError as exc:
        raise BadParam(str(exc)) from None
    now = database.utcnow()
    buckets = fixed_buckets(now, timedelta(hours=hours), STEP, tz)

    def compute():
        return {"hours": hours, "tz": tz.key,
                **build_timeline(database.get_session(), buckets, database.utcnow(), currency)}

    # The live namespace: short-lived, and cleared by every ingest like the live snapshot.
    return _answer("live", ("timeline", hours, tz.key, buckets.end, currency), compute)


@bp.route("/self-cost")
def self_cost_view():
    """What the monitor costs this process: timer per request, tick, sampler CPU share, memory,
    open sockets."""
    return jsonify(self_cost.report(current_app._get_current_object()))
