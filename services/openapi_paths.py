"""The paths of the OpenAPI document, grouped by concern (see ``services.openapi_spec``)."""
from __future__ import annotations

from services.openapi_spec import (
    BOOL, INT, NUM, STR, TIME, arr, errors, json_ok, minutes, nullable, obj, op, path_id, query, tz,
)

STALE = {"stale": BOOL, "as_of": nullable(TIME)}
SYSTEM = obj({"cpu_percent": nullable(NUM), "memory_percent": nullable(NUM),
              "disk_percent": nullable(NUM)},
             {"net_sent_bps": nullable(NUM), "net_recv_bps": nullable(NUM)})
LIVE = obj(
    {"seq": INT, "timestamp": TIME, "system": SYSTEM,
     "requests": obj({"rpm": NUM, "avg_ms": nullable(NUM), "p95_ms": nullable(NUM),
                      "error_rate": nullable(NUM)}),
     "transactions": obj({"last_hour": obj({"completed": INT, "pending": INT, "failed": INT,
                                            "revenue_cents": INT}),
                          "recent": arr(obj())}),
     "active_users": INT, "alerts": obj({"firing": INT})},
    STALE,
)
TRANSACTION_IN = obj(
    {"id": {"type": "string", "minLength": 1, "maxLength": 64},
     "amount_cents": {"type": "integer"},
     "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
     "status": {"enum": ["completed", "pending", "failed", "refunded"]},
     "customer_id": nullable(STR), "created_at": TIME},
    {"updated_at": TIME, "channel": nullable(STR)},
)
ACTIVITY_IN = obj({"user_id": STR, "action": STR}, {"detail": nullable(STR), "created_at": TIME})
LOG_IN = obj({"service": STR, "level": STR, "message": STR}, {"created_at": TIME})
RULE_FIELDS = {
    "name": STR, "metric": STR, "operator": {"enum": [">", ">=", "<", "<="]}, "threshold": NUM,
    "for_seconds": INT, "severity": {"enum": ["critical", "warning", "info"]}, "enabled": BOOL,
    "channels": arr(STR),
}
RULE = obj({"id": INT, **RULE_FIELDS})
ALERT = obj({"id": INT, "rule": nullable(STR), "severity": STR, "status": STR, "title": STR,
             "value": nullable(NUM), "threshold": NUM, "started_at": TIME})


def _metrics() -> dict:
    return {
        "/admin/api/metrics/live": {"get": op(
            "The snapshot live_update carries", json_ok(LIVE), tags=["live"])},
        "/admin/api/metrics/system": {"get": op(
            "Time series of the system samples",
            json_ok(obj({"series": arr(obj({"recorded_at": TIME}))})),
            params=[minutes(60, 10080)], tags=["system"])},
        "/admin/api/performance": {"get": op(
            "Per-endpoint request figures and a per-minute timeline",
            json_ok(obj({"endpoints": arr(obj({
                "endpoint": STR, "method": STR, "count": INT, "rpm": NUM, "avg_ms": nullable(NUM),
                "p50_ms": nullable(NUM), "p95_ms": nullable(NUM), "p99_ms": nullable(NUM),
                "error_rate": nullable(NUM)})), "timeline": arr(obj())})),
            params=[minutes(60, 10080)], tags=["performance"])},
    }


def _analytics() -> dict:
    bucket = obj({"start": TIME, "revenue_cents": INT, "transactions": INT, "completed": INT,
                  "pending": INT, "failed": INT})
    summary = obj({"total_cents": INT, "average_cents": NUM, "peak": nullable(obj()),
                   "transactions": INT, "average_transaction_cents": nullable(NUM),
                   "success_rate": nullable(NUM), "growth_rate": nullable(NUM)})
    return {
        "/admin/api/analytics/revenue": {"get": op(
            "Revenue per hour, day or week from the rollups",
            json_ok(obj({"buckets": arr(bucket), "summary": summary}, STALE)),
            params=[query("period", {"enum": ["hourly", "daily", "weekly"]}),
                    query("start", TIME), query("end", TIME), tz(),
                    query("currency", {"type": "string", "pattern": "^[A-Z]{3}$"})],
            tags=["analytics"])},
        "/admin/api/analytics/transactions": {"get": op(
            "Status counts and the latest transactions",
            json_ok(obj({"recent": arr(obj())}, STALE)), params=[minutes(60, 10080)],
            tags=["analytics"])},
        "/admin/api/user-activity": {"get": op(
            "Active users, recent actions, actions by kind, a 7 x 24 heatmap",
            json_ok(obj({"active_users": INT, "recent": arr(obj()), "by_action": {},
                         "heatmap": arr(arr(INT))}, STALE)),
            params=[minutes(30, 10080), query("limit", {"type": "integer", "minimum": 1,
                                                         "maximum": 500})],
            tags=["analytics"])},
    }


def _operations() -> dict:
    health = obj({"status": {"enum": ["healthy", "degraded", "unhealthy"]}, "checks": obj()})
    return {
        "/admin/api/health": {"get": op(
            "Health of the database, cache, sampler, disk and memory",
            {**json_ok(health), **json_ok(health, 503, "Unhealthy")}, tags=["health"])},
        "/admin/api/cache/stats": {"get": op(
            "Per-namespace cache figures", json_ok(obj({"backend": STR})), tags=["cache"])},
        "/admin/api/cache/clear": {"post": op(
            "Clear one cache namespace, or all", json_ok(obj({"cleared": INT})),
            body=obj(optional={"namespace": nullable(STR)}), write=True, admin=True, tags=["cache"])},
        "/admin/api/openapi.json": {"get": op(
            "This document", json_ok(obj({"openapi": STR, "paths": obj()})), tags=["meta"])},
        "/admin/api/grafana-dashboard.json": {"get": op(
            "The Grafana dashboard for /metrics", json_ok(obj({"panels": arr(obj())})),
            tags=["meta"])},
        "/admin/api/alerts/prometheus-rules": {"get": op(
            "The alert rules that map onto /metrics, as a Prometheus rule file",
            {"200": {"description": "YAML rule file",
                     "content": {"application/yaml": {"schema": STR}}}}, tags=["alerts"])},
    }


def _alerts() -> dict:
    note = obj(optional={"note": nullable({"type": "string", "maxLength": 2000})})
    rule_in = obj({k: RULE_FIELDS[k] for k in ("name", "metric", "operator", "threshold")},
                  {k: v for k, v in RULE_FIELDS.items()
                   if k not in ("name", "metric", "operator", "threshold")})
    return {
        "/admin/api/alerts": {"get": op(
            "Alerts by status", json_ok(obj({"alerts": arr(ALERT)})),
            params=[query("status", {"enum": ["active", "acknowledged", "resolved", "all"]})],
            tags=["alerts"])},
        "/admin/api/alerts/{id}/acknowledge": {"post": op(
            "Acknowledge an alert", {**json_ok(obj({"alert": ALERT})), **errors(404, 409)},
            params=[path_id()], body=note, write=True, admin=True, tags=["alerts"])},
        "/admin/api/alerts/{id}/resolve": {"post": op(
            "Resolve an alert", {**json_ok(obj({"alert": ALERT})), **errors(404, 409)},
            params=[path_id()], body=note, write=True, admin=True, tags=["alerts"])},
        "/admin/api/alerts/rules": {
            "get": op("Alert rules", json_ok(obj({"rules": arr(RULE)})), tags=["alerts"]),
            "post": op("Create a rule", {**json_ok(obj({"rule": RULE}), 201), **errors(409)},
                       body=rule_in, write=True, admin=True, tags=["alerts"]),
        },
        "/admin/api/alerts/rules/{id}": {
            "put": op("Change a rule", {**json_ok(obj({"rule": RULE})), **errors(404, 409)},
                      params=[path_id()], body=obj(optional=RULE_FIELDS), write=True, admin=True,
                      tags=["alerts"]),
            "delete": op("Delete a rule", {**json_ok(obj()), **errors(404)},
                         params=[path_id()], write=True, admin=True, tags=["alerts"]),
        },
    }


def _data() -> dict:
    export_in = obj({"data_type": {"enum": ["transactions", "revenue", "activity", "metrics", "logs",
                                            "alerts"]},
                     "format": {"enum": ["csv", "xlsx", "json"]}},
                    {"start": TIME, "end": TIME})
    return {
        "/admin/api/logs": {"get": op(
            "Log entries, newest first",
            json_ok(obj({"logs": arr(obj({"id": INT, "created_at": TIME, "level": STR,
                                          "service": STR, "message": STR}))})),
            params=[query("level", STR), query("service", STR), query("q", STR),
                    query("since", TIME), query("limit", {"type": "integer", "minimum": 1})],
            tags=["logs"])},
        "/admin/api/export": {"post": op(
            "Start an export; returns a signed download link",
            json_ok(obj({"url": STR, "expires_at": TIME})), body=export_in, write=True,
            tags=["export"])},
    }


def _ingest() -> dict:
    batch = obj(optional={"transactions": arr(TRANSACTION_IN), "activities": arr(ACTIVITY_IN),
                          "logs": arr(LOG_IN)})
    accepted = obj({"accepted": obj({"transactions": INT, "activities": INT, "logs": INT})})
    return {
        "/api/v1/events": {"post": {
            "summary": "Ingest transactions, activities and logs (at most 1000 items in all)",
            "tags": ["ingest"], "security": [{"ingestKey": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": batch}}},
            "responses": {**json_ok(accepted, 202, "Stored"),
                          **errors(400, 401, 413, 415, 429, 503)},
        }},
    }


def paths() -> dict:
    """Every documented path."""
    return {**_metrics(), **_analytics(), **_operations(), **_alerts(), **_data(), **_ingest()}
