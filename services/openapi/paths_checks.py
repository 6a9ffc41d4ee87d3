"""Paths of the OpenAPI document: service monitors and push heartbeats."""
from __future__ import annotations

from services.openapi.schemas import (
    BOOL, INT, NUM, STR, TIME, arr, errors, json_ok, nullable, obj, op, path_id,
)

KIND = {"enum": ["http", "tcp", "push", "database", "redis"]}
LABELS = {"type": "object", "additionalProperties": STR}
# What a client may send: the common fields, then those of the kind (unknown fields are refused).
MONITOR_FIELDS = {
    "name": STR, "kind": KIND, "interval_seconds": INT, "timeout_seconds": NUM,
    "failure_threshold": INT, "recovery_threshold": INT, "parent_id": nullable(INT),
    "labels": LABELS, "paused": BOOL,
    "url": STR, "method": STR, "headers": LABELS, "body": nullable(STR),
    "expected_status": {"anyOf": [STR, arr({"anyOf": [INT, STR, arr(INT)]})]},
    "keyword": nullable(STR), "keyword_absent": BOOL, "json_path": nullable(STR),
    "json_expected": {"anyOf": [STR, NUM, BOOL, {"type": "null"}]},
    "max_response_ms": nullable(NUM), "tls_days_min": nullable(INT), "follow_redirects": BOOL,
    "host": STR, "port": INT, "grace_seconds": INT, "pool_usage_max_percent": nullable(NUM),
    "connections_max_percent": nullable(NUM), "clients_max_percent": nullable(NUM),
}
MONITOR = obj({"id": INT, "name": STR, "kind": KIND, "interval_seconds": INT, "timeout_seconds": NUM,
               "failure_threshold": INT, "recovery_threshold": INT, "parent_id": nullable(INT),
               "labels": LABELS, "paused": BOOL, "config": obj(),
               "status": {"enum": ["pending", "up", "degraded", "down", "paused"]},
               "state": {"enum": ["pending", "up", "down"]}, "state_since": TIME,
               "last_checked_at": nullable(TIME), "last_latency_ms": nullable(NUM),
               "last_error": nullable(STR)},
              {"uptime_24h": nullable(NUM), "uptime_7d": nullable(NUM), "uptime_30d": nullable(NUM),
               "avg_ms_24h": nullable(NUM), "p50_ms_24h": nullable(NUM), "p95_ms_24h": nullable(NUM),
               "push_token": STR, "heartbeat_path": STR})
DETAIL = {**MONITOR, "properties": {**MONITOR["properties"],
                                    "hourly": arr(obj({"start": TIME, "checks": INT, "up": INT},
                                                      {"avg_ms": nullable(NUM), "p50_ms": nullable(NUM),
                                                       "p95_ms": nullable(NUM), "max_ms": nullable(NUM)})),
                                    "results": arr(obj({"at": TIME, "ok": BOOL})),
                                    "events": arr(obj({"at": TIME, "from": STR, "to": STR},
                                                      {"error": nullable(STR), "alerted": BOOL}))}}
EXPORT = obj({"monitors": arr(obj({"name": STR, "kind": KIND}))}, {"version": INT, "exported_at": TIME})
# The import reads ``monitors`` only: ``version`` and ``exported_at`` of an export may come along
# and are not read, so any value is taken.
IMPORT = obj({"monitors": arr(obj({"name": STR, "kind": KIND}))},
             {"version": {"description": "from the export; not read"},
              "exported_at": {"description": "from the export; not read"}})


def paths() -> dict:
    """The monitors API and the heartbeat endpoint."""
    monitor_id = path_id("monitor_id")
    one = {**json_ok(obj({"monitor": MONITOR})), **errors(404)}
    return {
        "/admin/api/monitors": {
            "get": op("Every monitor with its state and uptime 24 h / 7 d / 30 d",
                      json_ok(obj({"monitors": arr(MONITOR)})), tags=["monitors"]),
            "post": op("Create a monitor (400 names the field; 409 when the name is taken)",
                       {**json_ok(obj({"monitor": MONITOR}), 201), **errors(409)},
                       body=obj({"name": STR, "kind": KIND}, {k: v for k, v in MONITOR_FIELDS.items()
                                                             if k not in ("name", "kind")}),
                       write=True, admin=True, tags=["monitors"]),
        },
        "/admin/api/monitors/{monitor_id}": {
            "get": op("One monitor with hourly buckets, recent results and state changes",
                      {**json_ok(obj({"monitor": DETAIL})), **errors(404)}, params=[monitor_id],
                      tags=["monitors"]),
            "put": op("Change some or all fields of a monitor (its kind stays)",
                      {**one, **errors(404, 409)}, params=[monitor_id], body=obj(optional=MONITOR_FIELDS),
                      write=True, admin=True, tags=["monitors"]),
            "delete": op("Delete a monitor with its results (its open alert is resolved)",
                         {**json_ok(obj({"deleted": INT})), **errors(404)}, params=[monitor_id],
                         write=True, admin=True, tags=["monitors"]),
        },
        "/admin/api/monitors/{monitor_id}/pause": {"post": op(
            "Pause or resume a monitor", one, params=[monitor_id], body=obj({"paused": BOOL}),
            write=True, admin=True, tags=["monitors"])},
        "/admin/api/monitors/export": {"get": op(
            "Every monitor in the format the import takes (parents by name)", json_ok(EXPORT),
            tags=["monitors"])},
        "/admin/api/monitors/import": {"post": op(
            "Create or update (by name) every monitor of an export; all or nothing",
            {**json_ok(obj({"created": INT, "updated": INT})), **errors(409)}, body=IMPORT,
            write=True, admin=True, tags=["monitors"])},
        "/api/v1/heartbeat/{token}": {"post": {
            "summary": "A push monitor's heartbeat (the token is the monitor's secret)",
            "tags": ["monitors"], "security": [],
            "parameters": [{"name": "token", "in": "path", "required": True,
                            "schema": {"type": "string", "maxLength": 200}}],
            "requestBody": {"required": False, "content": {"application/json": {"schema": obj(
                optional={"status": {"enum": ["up", "down"]}, "message": nullable(STR)})}}},
            "responses": {**json_ok(obj({"ok": BOOL, "monitor": STR, "status": STR, "received_at": TIME})),
                          **errors(400, 404, 413, 415, 429, 503)},
        }},
    }
