"""Paths of the OpenAPI document: live, performance, analytics and insights (see ``services.openapi.spec``)."""
from __future__ import annotations

from services.openapi import paths_checks, paths_dashboards, paths_explore, paths_metrics
from services.openapi import paths_ops as openapi_paths_ops
from services.openapi import paths_products, paths_routing
from services.openapi.schemas import (
    BOOL, CURRENCY, INT, NUM, STALE, STR, TIME, arr, json_ok, minutes, nullable, obj, op, query,
    range_params, tz,
)

SYSTEM = obj({"cpu_percent": nullable(NUM), "memory_percent": nullable(NUM),
              "disk_percent": nullable(NUM)},
             {"net_sent_bps": nullable(NUM), "net_recv_bps": nullable(NUM)})
LIVE = obj(
    {"seq": INT, "timestamp": TIME, "system": nullable(SYSTEM),
     "requests": obj({"rpm": NUM, "avg_ms": nullable(NUM), "p95_ms": nullable(NUM),
                      "error_rate": nullable(NUM)}),
     "transactions": obj({"last_hour": obj({"completed": INT, "pending": INT, "failed": INT,
                                            "revenue_cents": INT},
                                           {"refunded": INT, "currency": nullable(STR),
                                            "revenue_by_currency": obj()}),
                          "recent": arr(obj())}),
     "active_users": INT, "alerts": obj({"firing": INT})},
    STALE,
)
ENDPOINT = obj({"endpoint": STR, "method": STR, "count": INT, "rpm": NUM, "avg_ms": nullable(NUM),
                "p50_ms": nullable(NUM), "p95_ms": nullable(NUM), "p99_ms": nullable(NUM),
                "error_rate": nullable(NUM)}, {"label": STR, "rule": nullable(STR)})
RANGE = {"period": STR, "tz": STR, "start": nullable(TIME), "end": TIME}


def _live() -> dict:
    return {
        "/admin/api/metrics/live": {"get": op(
            "The snapshot live_update carries", json_ok(LIVE), tags=["live"])},
        "/admin/api/metrics/system": {"get": op(
            "System samples of the last minutes, oldest first",
            json_ok(obj({"points": arr(obj()), "minutes": INT, "since": TIME, "until": TIME}, STALE)),
            params=[minutes(60, 1440)], tags=["system"])},
        "/admin/api/performance": {"get": op(
            "Per-endpoint request figures, a summary and a per-minute timeline",
            json_ok(obj({"endpoints": arr(ENDPOINT),
                         "summary": obj({"count": INT, "errors": INT, "rpm": NUM,
                                         "avg_ms": nullable(NUM), "p95_ms": nullable(NUM),
                                         "p99_ms": nullable(NUM), "error_rate": NUM}),
                         "minutes": INT, "since": TIME, "until": TIME,
                         "timeline": arr(obj({"minute": TIME, "count": INT}))}, STALE)),
            params=[minutes(60, 1440),
                    query("label", {"enum": ["panel-api", "page", "ingest", "app"]},
                          "Only one kind of traffic.")],
            tags=["performance"])},
        "/admin/api/self-cost": {"get": op(
            "What the monitoring costs this process (timer, tick, sampler, memory)",
            json_ok(obj({"rss_bytes": nullable(INT), "threads": INT,
                         "sockets": obj({"total": INT, "per_user_limit": INT})})), unavailable=False,
            tags=["performance"])},
    }


def _analytics() -> dict:
    bucket = obj({"start": TIME, "revenue_cents": INT, "transactions": INT, "completed": INT,
                  "pending": INT, "failed": INT})
    summary = obj({"total_cents": INT, "average_cents": nullable(NUM),
                   "peak": nullable(obj({"start": TIME, "revenue_cents": INT})),
                   "transactions": INT, "orders": INT, "average_transaction_cents": nullable(NUM),
                   "success_rate": nullable(NUM), "growth_rate": nullable(NUM),
                   "previous_total_cents": INT, "previous_start": TIME, "previous_end": TIME})
    # Each currency of the range with its own revenue and orders (completed transactions).
    per_currency = obj({"currency": STR, "revenue_cents": INT, "orders": INT})
    revenue = obj({"buckets": arr(bucket), "summary": summary, "currency": nullable(STR),
                   "currencies": arr(per_currency), "other_currencies": arr(STR), **RANGE},
                  STALE)
    activity = obj({"active_users": INT, "recent": arr(obj({"user_id": STR, "action": STR})),
                    "by_action": arr(obj()), "heatmap": arr(arr(INT))}, STALE)
    transactions = obj({"counts": obj({"completed": INT, "pending": INT, "failed": INT,
                                       "refunded": INT, "total": INT}),
                        "transactions": arr(obj({"id": STR, "amount_cents": INT, "currency": STR,
                                                 "status": STR})),
                        "revenue_cents": obj()}, STALE)
    return {
        "/admin/api/analytics/revenue": {"get": op(
            "Revenue per hour, day or week from the rollups, for one currency",
            json_ok(revenue), params=[query("period", {"enum": ["hourly", "daily", "weekly"]}),
                                      *range_params(), query("currency", CURRENCY),
                                      query("compare", {"enum": ["previous", "week"]},
                                            "Add the same figures over the previous period or a week earlier.")],
            unavailable=True, tags=["analytics"])},
        "/admin/api/analytics/transactions": {"get": op(
            "Status counts of the last minutes and the newest transactions", json_ok(transactions),
            params=[minutes(60, 10080), query("limit", {"type": "integer", "minimum": 1, "maximum": 200})],
            unavailable=True, tags=["analytics"])},
        "/admin/api/user-activity": {"get": op(
            "Active users, recent actions, actions by kind, a 7 x 24 heatmap", json_ok(activity),
            params=[minutes(30, 1440), query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                    query("heatmap_days", {"type": "integer", "minimum": 1, "maximum": 90}), tz()],
            unavailable=True, tags=["analytics"])},
        "/admin/api/analytics/customers": {"get": op(
            "New and returning customers, repeat purchases, value per customer, conversion",
            json_ok(obj({"buckets": arr(obj({"start": TIME})), "summary": obj(),
                         "conversion": obj(), "value": arr(obj()), **RANGE}, STALE)),
            params=[query("period", {"enum": ["hourly", "daily", "weekly"]}), *range_params()],
            unavailable=True, tags=["analytics"])},
        "/admin/api/analytics/channels": {"get": op(
            "Revenue, orders and success rate per sales channel",
            json_ok(obj({"channels": arr(obj({"channel": STR, "revenue_cents": INT})),
                         "buckets": arr(obj({"start": TIME})), **RANGE}, STALE)),
            params=[query("period", {"enum": ["hourly", "daily", "weekly"]}), *range_params(),
                    query("currency", CURRENCY)],
            unavailable=True, tags=["analytics"])},
        "/admin/api/timeline": {"get": op(
            "Revenue, failed payments, errors and p95 on one 15-minute axis, with alert windows "
            "and monitor down windows (each with its money at risk)",
            json_ok(obj({"buckets": arr(obj({"start": TIME})), "alerts": arr(obj()),
                         "monitor_windows": arr(obj({"monitor_id": INT, "title": STR, "started_at": TIME,
                                                     "ended_at": TIME, "open": BOOL,
                                                     "money_at_risk": arr(obj())})),
                         "hours": INT, "step_seconds": INT, "tz": STR}, STALE)),
            params=[query("hours", {"type": "integer", "minimum": 1, "maximum": 168}),
                    query("currency", CURRENCY), tz()],
            unavailable=True, tags=["analytics"])},
    }


def paths() -> dict:
    """Every documented path: this module's and each feature's ``paths_*`` module's."""
    return {**_live(), **_analytics(), **openapi_paths_ops.paths(), **paths_metrics.paths(),
            **paths_checks.paths(), **paths_routing.paths(), **paths_products.paths(),
            **paths_explore.paths(), **paths_dashboards.paths()}

