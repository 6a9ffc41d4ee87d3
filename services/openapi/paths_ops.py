"""Paths of the OpenAPI document: health, cache, alerts, logs, export, downloads and ingest."""
from __future__ import annotations

from services.infra import MAX_ID
from services.openapi.schemas import (
    BOOL, INT, NUM, STALE, STR, TIME, TIME_Q, arr, errors, json_ok, nullable, obj, op, path_id, query,
)
from services.openapi.paths_products import ITEM_IN, PRODUCT_IN

SEVERITY = {"enum": ["critical", "warning", "info"]}
RULE_FIELDS = {
    "name": STR, "metric": STR, "operator": {"enum": [">", ">=", "<", "<="]}, "threshold": NUM,
    "for_seconds": INT, "severity": SEVERITY, "enabled": BOOL, "channels": arr(STR),
    "labels": {"type": "object", "additionalProperties": STR},
    "annotations": obj(optional={"summary": STR, "description": STR, "runbook_url": STR}),
}
RULE = obj({"id": INT, **RULE_FIELDS, "params": obj(), "builtin": BOOL, "snoozed": BOOL,
            "snoozed_until": nullable(TIME)})
ALERT = obj({"id": INT, "rule": STR, "rule_id": nullable(INT), "metric": STR, "severity": STR,
             "status": {"enum": ["pending", "firing", "acknowledged", "resolved"]}, "title": STR,
             "value": nullable(NUM), "threshold": nullable(NUM), "started_at": TIME,
             "fired_at": nullable(TIME), "acknowledged_at": nullable(TIME),
             "resolved_at": nullable(TIME), "snoozed": BOOL},
            {"labels": {"type": "object", "additionalProperties": STR}, "annotations": obj(),
             "source_key": nullable(STR), "muted_by": nullable(STR), "inhibited_by": nullable(STR)})
COUNT_FIELDS = {"firing": INT, "acknowledged": INT, "pending": INT, "open": INT}
COUNTS = obj(COUNT_FIELDS)
CHANNEL = obj({"name": STR, "label": STR, "configured": BOOL, "problem": nullable(STR),
               "target": nullable(STR),
               "last_delivery": nullable(obj({"status": {"enum": ["sent", "failed", "retrying"]},
                                              "created_at": TIME, "sent_at": nullable(TIME),
                                              "error": nullable(STR), "attempts": INT}))},
              {"id": nullable(INT), "source": nullable({"enum": ["settings", "page"]})})
# The panel's own log records: what waits, what was stored, dropped or refused, and whether the
# writer waits for the database.
LOG_HANDLER = obj({"queued": INT, "written": INT, "dropped": INT, "failed": INT, "capacity": INT,
                   "state": {"enum": ["storing", "waiting_for_database"]}},
                  {"outage_since": nullable(TIME), "retry_in": nullable(NUM)})
HEALTH = obj({"status": {"enum": ["healthy", "degraded", "unhealthy"]},
              "checks": obj({name: obj({"status": {"enum": ["healthy", "degraded", "unhealthy"]},
                                        "message": STR})
                             for name in ("database", "cache", "sampler", "disk", "memory", "sockets")}),
              "checked_at": TIME})
CACHE_NS = obj({"hits": INT, "misses": INT, "hit_ratio": nullable(NUM), "size": INT, "maxsize": INT,
                "ttl": NUM})
TRANSACTION_IN = obj(
    {"id": STR, "amount_cents": INT, "currency": STR,
     "status": {"enum": ["completed", "pending", "failed", "refunded"]},
     "customer_id": nullable(STR), "created_at": TIME},
    {"updated_at": TIME, "channel": nullable(STR), "items": nullable(arr(ITEM_IN))},
)


def _health_cache() -> dict:
    return {
        "/admin/api/health": {"get": op(
            "Health of the database, cache, sampler, disk and memory",
            {**json_ok(HEALTH), **json_ok(HEALTH, 503, "Unhealthy")}, tags=["health"])},
        "/admin/api/cache/stats": {"get": op(
            "Per-namespace cache figures, totals and the backend",
            json_ok(obj({"backend": STR, "namespaces": {"type": "object", "additionalProperties": CACHE_NS},
                         "totals": obj({"hits": INT, "misses": INT, "size": INT})},
                        {"fallback": obj({"entries": INT, "bytes": INT, "max_bytes": INT})})),
            unavailable=False, tags=["cache"])},
        "/admin/api/cache/clear": {"post": op(
            "Empty one cache namespace, or every one when none is given",
            json_ok(obj({"cleared": INT, "namespace": nullable(STR), "namespaces": arr(STR)})),
            body=obj(optional={"namespace": nullable(STR)}), body_required=False, write=True,
            admin=True, tags=["cache"])},
    }


def _downloads() -> dict:
    return {
        "/admin/api/openapi.json": {"get": op(
            "This document", json_ok(obj({"openapi": STR, "paths": obj()})), unavailable=False,
            tags=["meta"])},
        "/admin/api/grafana-dashboard.json": {"get": op(
            "The Grafana dashboard for /metrics, to import",
            json_ok(obj({"title": STR, "panels": arr(obj({"targets": arr(obj({"expr": STR}))}))})),
            unavailable=False, tags=["meta"])},
        "/admin/api/alerts/prometheus-rules": {"get": op(
            "The alert rules that map onto /metrics, as a Prometheus rule file",
            {"200": {"description": "YAML rule file", "content": {"application/yaml": {"schema": obj(
                {"groups": arr(obj({"name": STR, "rules": arr(obj({"alert": STR, "expr": STR}))}))})}}}},
            tags=["alerts"])},
    }


def _alerts() -> dict:
    note = obj(optional={"note": nullable(STR)})
    snooze = obj({"minutes": INT})
    rule_in = obj({k: RULE_FIELDS[k] for k in ("name", "metric", "operator", "threshold")},
                  {**{k: v for k, v in RULE_FIELDS.items()
                      if k not in ("name", "metric", "operator", "threshold")}, "params": obj()})
    moved = {**json_ok(obj({"alert": ALERT})), **errors(404, 409)}
    alert_id, rule_id = path_id("alert_id"), path_id("rule_id")
    return {
        "/admin/api/alerts": {"get": op(
            "Alerts newest first, with counts by status",
            json_ok(obj({"alerts": arr(ALERT), "next_cursor": nullable(INT), "counts": COUNTS}, STALE)),
            params=[query("status", {"enum": ["active", "pending", "firing", "acknowledged", "resolved",
                                              "all"]}),
                    query("severity", STR, "Comma-separated severities."),
                    query("rule", STR, "A rule id or name."), query("since", TIME_Q), query("until", TIME_Q),
                    query("cursor", {"type": "integer", "minimum": 1, "maximum": MAX_ID}),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 500})],
            tags=["alerts"])},
        "/admin/api/alerts/count": {"get": op(
            "Firing and open alerts by status (the bell)", json_ok(obj(COUNT_FIELDS, STALE)),
            tags=["alerts"])},
        "/admin/api/alerts/{alert_id}": {"get": op(
            "One alert with its notifications",
            {**json_ok(obj({"alert": ALERT})), **errors(404)}, params=[alert_id], tags=["alerts"])},
        "/admin/api/alerts/{alert_id}/acknowledge": {"post": op(
            "Acknowledge a firing alert", moved, params=[alert_id], body=note, body_required=False,
            write=True, admin=True, tags=["alerts"])},
        "/admin/api/alerts/{alert_id}/resolve": {"post": op(
            "Resolve an open alert by hand (a note is required)", moved, params=[alert_id], body=note,
            body_required=False, write=True, admin=True, tags=["alerts"])},
        "/admin/api/alerts/{alert_id}/snooze": {"post": op(
            "Silence an open alert for some minutes (0 ends the snooze)", moved, params=[alert_id],
            body=snooze, write=True, admin=True, tags=["alerts"])},
        "/admin/api/alerts/rules": {
            "get": op("Alert rules and what a rule may watch",
                      json_ok(obj({"rules": arr(RULE), "metrics": arr(obj({"name": STR, "unit": STR})),
                                   "operators": arr(STR), "severities": arr(STR),
                                   "channels": arr(STR)}, STALE)), tags=["alerts"]),
            "post": op("Create a rule", {**json_ok(obj({"rule": RULE}), 201), **errors(409)},
                       body=rule_in, write=True, admin=True, tags=["alerts"]),
        },
        "/admin/api/alerts/rules/{rule_id}": {
            "put": op("Change some or all fields of a rule",
                      {**json_ok(obj({"rule": RULE})), **errors(404, 409)}, params=[rule_id],
                      body=obj(optional={**RULE_FIELDS, "params": obj()}), write=True, admin=True,
                      tags=["alerts"]),
            "delete": op("Delete a custom rule", {**json_ok(obj({"deleted": INT})), **errors(404, 409)},
                         params=[rule_id], write=True, admin=True, tags=["alerts"]),
        },
        "/admin/api/alerts/channels": {"get": op(
            "Each notification channel: configured or not, where it delivers, its last delivery",
            json_ok(obj({"channels": arr(CHANNEL), "configured": INT}, {"contact_points": INT})),
            tags=["alerts"])},
        "/admin/api/alerts/channels/{name}/test": {"post": op(
            "Send a test message through one channel now (admin); answers whether it was delivered",
            {**json_ok(obj({"channel": STR, "delivered": BOOL, "error": nullable(STR), "at": TIME,
                            "duration_ms": NUM})), **errors(404, 409)},
            params=[{"name": "name", "in": "path", "required": True,
                     "schema": {"type": "string", "enum": ["webhook", "email"]}}],
            write=True, admin=True, tags=["alerts"])},
        "/admin/api/alerts/rules/{rule_id}/snooze": {"post": op(
            "Silence a rule for some minutes (0 ends the snooze)",
            {**json_ok(obj({"rule": RULE})), **errors(404, 409)}, params=[rule_id], body=snooze,
            write=True, admin=True, tags=["alerts"])},
    }


def _data() -> dict:
    log_entry = obj({"id": INT, "created_at": TIME, "level": STR, "service": STR, "message": STR})
    export_in = obj({"data_type": {"enum": ["transactions", "revenue", "activity", "metrics", "logs",
                                            "performance", "alerts", "custom_metrics", "orders",
                                            "products", "all"]}},
                    # format defaults to csv, as the server does.
                    {"format": {"enum": ["csv", "xlsx", "json"]}, "start": nullable(TIME), "end": nullable(TIME),
                     "filters": {"type": "object", "additionalProperties": STR, "maxProperties": 24,
                                 "description": "A drill-down's query (GET /admin/api/explore/{kind}): "
                                                "the file holds exactly its rows."}})
    return {
        "/admin/api/logs": {"get": op(
            "Log entries, newest first, paged by cursor",
            json_ok(obj({"logs": arr(log_entry), "next_cursor": nullable(STR)},
                        {**STALE, "handler": nullable(LOG_HANDLER)})),
            params=[query("level", {"enum": ["debug", "info", "warning", "error", "critical"]},
                          "Minimum level."),
                    query("service", STR), query("q", STR, "Text the message contains."),
                    query("since", TIME_Q), query("until", TIME_Q), query("cursor", STR),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 500})],
            tags=["logs"])},
        "/admin/api/export": {"post": op(
            "Start an export; returns a signed download link for this user",
            json_ok(obj({"url": STR, "expires_at": TIME, "filename": STR})), body=export_in,
            write=True, tags=["export"])},
        "/admin/api/export/{token}": {"get": op(
            "Download an export through its signed link (same user, before it expires)",
            {"200": {"description": "The file (CSV, XLSX or JSON)", "content": {
                "text/csv": {"schema": STR}, "application/json": {"schema": {}}, "application/zip": {"schema": STR},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": STR}}},
             **errors(403, 410)},
            params=[{"name": "token", "in": "path", "required": True, "schema": STR}], tags=["export"])},
        "/admin/api/audit": {"get": op(
            "The audit trail, newest first (admins only)",
            json_ok(obj({"entries": arr(obj({"id": INT, "created_at": TIME, "action": STR,
                                             "actor": nullable(STR), "outcome": STR})),
                         "next_cursor": nullable(STR)}, STALE)),
            params=[query("actor", STR), query("action", STR), query("outcome", STR),
                    query("since", TIME_Q), query("until", TIME_Q), query("cursor", STR),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 500})],
            admin=True, tags=["audit"])},
    }


def _ingest() -> dict:
    batch = obj(optional={"transactions": arr(TRANSACTION_IN),
                          "activities": arr(obj({"user_id": STR, "action": STR},
                                                {"detail": nullable(STR), "created_at": TIME})),
                          "logs": arr(obj({"service": STR, "level": STR, "message": STR},
                                          {"created_at": TIME})),
                          "alerts": arr(obj({"key": STR, "status": {"enum": ["firing", "resolved"]}},
                                            {"title": STR, "severity": SEVERITY, "labels": obj(),
                                             "annotations": obj(), "started_at": TIME})),
                          "products": arr(PRODUCT_IN)})
    accepted = obj({"accepted": obj({"transactions": INT, "activities": INT, "logs": INT},
                                    {"alerts": INT, "products": INT})},
                   {"unknown_skus": arr(STR)})
    return {
        "/api/v1/events": {"post": {
            "summary": "Ingest transactions (with their items), activities, logs, alerts and products "
                       "(at most 1000 items in all)",
            "description": "Sending a transaction id again updates it. A bad item refuses the whole "
                           "batch (400, with the item's index) and stores nothing.",
            "tags": ["ingest"], "security": [{"ingestKey": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": batch}}},
            "responses": {**json_ok(accepted, 202, "Stored"),
                          **errors(400, 401, 413, 415, 429, 503)},
        }},
    }


def paths() -> dict:
    """This module's paths."""
    return {**_health_cache(), **_downloads(), **_alerts(), **_data(), **_ingest()}
