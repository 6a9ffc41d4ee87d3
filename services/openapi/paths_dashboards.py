"""Paths of the OpenAPI document: dashboards and the batched widget query."""
from __future__ import annotations

from services.openapi.schemas import (
    BOOL, INT, NUM, STR, TIME, arr, errors, json_ok, nullable, obj, op, path_id,
)

RANGE = {"enum": ["15m", "1h", "6h", "24h", "today", "yesterday", "7d", "28d", "30d"]}
QUERY = {**obj(optional={
    "kind": {"enum": ["metric", "panel"]},
    "metric": {"type": "string", "pattern": "^[a-zA-Z_:][a-zA-Z0-9_:]*$", "maxLength": 200},
    "panel": {"enum": ["revenue_summary", "customer_summary", "customer_segments", "top_customers",
                       "recent_transactions", "firing_alerts", "services", "activity_heatmap",
                       "top_products"]},
    "field": nullable(STR), "range": RANGE, "step": nullable({"anyOf": [STR, INT]}),
    "tz": nullable(STR), "currency": nullable({"type": "string", "pattern": "^[A-Za-z]{3}$"}),
    "match": {"type": "object", "additionalProperties": STR, "maxProperties": 10},
    "agg": {"enum": ["avg", "min", "max", "sum", "last", "count", "rate"]},
    "group_by": nullable(arr(STR)), "reduce": {"enum": ["none", "sum", "avg", "min", "max", "last"]},
    "limit": {"type": "integer", "minimum": 1, "maximum": 50},
    "by": {"enum": ["revenue", "units"]}}), "additionalProperties": False}
GRID = obj({"x": {"type": "integer", "minimum": 0, "maximum": 11}, "y": {"type": "integer", "minimum": 0},
            "w": {"type": "integer", "minimum": 1, "maximum": 12}, "h": {"type": "integer", "minimum": 1}})
THRESHOLD = obj({"value": NUM, "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}})
OPTIONS = obj(optional={"unit": nullable(STR), "format": STR, "decimals": nullable(INT),
                        "thresholds": arr(THRESHOLD), "target": nullable(NUM), "min": nullable(NUM),
                        "max": nullable(NUM), "color": nullable(STR)})
WIDGET = obj({"id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
              "type": {"enum": ["metric_card", "line", "bar", "pie", "table", "gauge", "progress",
                                "sparkline", "heatmap", "kpi"]},
              "title": STR, "gridPos": GRID, "queries": {**arr(QUERY), "minItems": 1, "maxItems": 5}},
             {"options": OPTIONS})
VISIBILITY = {"enum": ["private", "roles", "public"]}
ROLES = arr({"enum": ["admin", "viewer"]})
DASHBOARD = obj({"id": INT, "title": STR, "owner_id": nullable(INT), "visibility": VISIBILITY,
                 "shared_roles": arr(STR), "public": BOOL, "version": INT, "is_default": BOOL,
                 "created_at": TIME, "updated_at": TIME},
                {"widgets": arr(obj()), "public_url": STR})
ONE = json_ok(obj({"dashboard": DASHBOARD}))
EXPORT = obj({"format": {"const": "dashboard/v1"}, "title": STR, "widgets": arr(WIDGET)})
RESULT = {"anyOf": [obj({"data": obj()}), obj({"error": obj({"message": STR})})]}
# Which live tick the results belong to (tick n spans [n, n + 1) × tick_seconds since 1970):
# a page skips a live_update of the same tick, whose results would be the same.
TICK = {"tick": INT, "tick_seconds": NUM}


def paths() -> dict:
    """The dashboards API."""
    did = path_id("dashboard_id")
    tags = ["dashboards"]
    return {
        "/admin/api/dashboards": {
            "get": op("Every dashboard the user may see (without widgets), and their home's id",
                      json_ok(obj({"dashboards": arr(DASHBOARD)}, {"home": nullable(INT)})), tags=tags),
            "post": op("Create a dashboard owned by the caller (400 names the field)",
                       json_ok(obj({"dashboard": DASHBOARD}), 201),
                       body=obj({"title": STR}, {"widgets": arr(WIDGET), "visibility": VISIBILITY,
                                                 "shared_roles": ROLES}),
                       write=True, admin=True, tags=tags),
        },
        "/admin/api/dashboards/{dashboard_id}": {
            "get": op("One dashboard with its widgets (404 when not visible to the caller)",
                      {**ONE, **errors(404)}, params=[did], tags=tags),
            "put": op("Save: version must be the one read, else 409 and nothing changes",
                      {**ONE, **errors(404, 409)}, params=[did],
                      body=obj({"version": INT}, {"title": STR, "widgets": arr(WIDGET),
                                                  "visibility": VISIBILITY, "shared_roles": ROLES}),
                      write=True, admin=True, tags=tags),
            "delete": op("Delete a dashboard", {**json_ok(obj({"deleted": INT})), **errors(404)},
                         params=[did], write=True, admin=True, tags=tags),
        },
        "/admin/api/dashboards/{dashboard_id}/share": {"post": op(
            "Private, shared with roles, or public by a random revocable link (PUBLIC_DASHBOARDS)",
            {**ONE, **errors(404)}, params=[did],
            body=obj({"visibility": VISIBILITY}, {"shared_roles": ROLES, "new_token": BOOL}),
            write=True, admin=True, tags=tags)},
        "/admin/api/dashboards/{dashboard_id}/export": {"get": op(
            "The dashboard as a document the import takes", {**json_ok(EXPORT), **errors(404)},
            params=[did], tags=tags)},
        "/admin/api/dashboards/home": {"put": op(
            "Make a dashboard the caller's home, where they land after signing in (null: the "
            "Overview); any dashboard they may see, viewers included",
            {**json_ok(obj({"home": nullable(INT)})), **errors(404)},
            body=obj({"dashboard_id": nullable({"type": "integer", "minimum": 1})}),
            write=True, tags=tags)},
        "/admin/api/dashboards/import": {"post": op(
            "A new private dashboard from an export", json_ok(obj({"dashboard": DASHBOARD}), 201),
            body=EXPORT, write=True, admin=True, tags=tags)},
        "/admin/api/widgets/query": {"post": op(
            "A batch of widget queries (results shared by every viewer for one live tick), or "
            "every saved query of one dashboard by widget id",
            {**json_ok({"anyOf": [obj({"results": arr(RESULT)}, TICK),
                                  obj({"dashboard": INT, "version": INT, "results": obj()}, TICK)]}),
             **errors(404)},
            body={"anyOf": [obj({"queries": {**arr(QUERY), "minItems": 1, "maxItems": 200}}),
                            obj({"dashboard": {"type": "integer", "minimum": 1}})]},
            write=True, tags=["dashboards"])},
    }
