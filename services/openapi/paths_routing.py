"""Paths of the OpenAPI document: API tokens, contact points, notification policies, inhibition,
maintenance windows and alerts raised by scripts (see ``openapi_spec``)."""
from __future__ import annotations

from services.openapi.schemas import BOOL, INT, STR, TIME, arr, errors, json_ok, nullable, obj, op, path_id

TOKEN = obj({"id": INT, "name": STR, "prefix": STR, "scope": {"enum": ["read", "read-write"]},
             "state": {"enum": ["active", "expired", "revoked"]}, "created_at": TIME, "expires_at": TIME,
             "revoked_at": nullable(TIME), "last_used_at": nullable(TIME), "last_used_ip": nullable(STR)})


def _tokens() -> dict:
    token_in = obj({"name": STR}, {"scope": {"enum": ["read", "read-write"]},
                                   "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 365}})
    return {
        "/admin/api/tokens": {
            "get": op("The caller's API tokens (never the secrets); needs a browser session",
                      {**json_ok(obj({"tokens": arr(TOKEN), "scopes": arr(STR), "max_days": INT})),
                       **errors(403)}, tags=["tokens"]),
            "post": op("Create an API token; the answer's secret is shown only this once",
                       {**json_ok(obj({"token": TOKEN, "secret": STR}), 201), **errors(409)},
                       body=token_in, write=True, tags=["tokens"]),
        },
        "/admin/api/tokens/{token_id}": {"delete": op(
            "Revoke one of the caller's tokens", {**json_ok(obj({"token": TOKEN})), **errors(404)},
            params=[path_id("token_id")], write=True, tags=["tokens"])},
    }


MATCHERS = arr(obj({"label": STR, "op": {"enum": ["=", "!=", "=~", "!~"]}, "value": STR}))
SECONDS = nullable({"type": "integer", "minimum": 0, "maximum": 604800})
DELIVERY = nullable(obj({"status": {"enum": ["sent", "failed", "retrying"]}, "created_at": TIME,
                         "sent_at": nullable(TIME), "error": nullable(STR), "attempts": INT}))
POINT = obj({"id": nullable(INT), "name": STR, "kind": {"enum": ["webhook", "email"]}, "builtin": BOOL,
             "channel": STR, "target": nullable(STR), "last_delivery": DELIVERY},
            {"configured": BOOL, "problem": nullable(STR), "addresses": arr(STR),
             "source": {"enum": ["settings", "page"]}})
# "source": "settings" only on the default contact points (webhook, email): follow the settings again.
POINT_FIELDS = {"name": STR, "kind": {"enum": ["webhook", "email"]}, "url": STR, "addresses": arr(STR),
                "source": {"enum": ["settings", "page"]}}
POLICY_FIELDS = {"name": STR, "parent_id": nullable(INT), "position": INT, "matchers": MATCHERS,
                 "contact_points": arr(STR), "continue": BOOL, "group_by": arr(STR),
                 "group_wait": SECONDS, "group_interval": SECONDS, "repeat_interval": SECONDS}
POLICY = obj({"id": INT, **POLICY_FIELDS})
INHIBITION_FIELDS = {"name": STR, "source_matchers": MATCHERS, "target_matchers": MATCHERS, "equal": arr(STR)}
INHIBITION = obj({"id": INT, **INHIBITION_FIELDS})
WINDOW_FIELDS = {"name": STR, "kind": {"enum": ["once", "recurring", "manual"]}, "matchers": MATCHERS,
                 "monitor_ids": arr(INT), "mode": {"enum": ["mute", "suppress"]},
                 "starts_at": nullable(STR), "ends_at": nullable(STR), "rrule": nullable(STR),
                 "dtstart": nullable(STR), "duration_minutes": nullable(INT), "timezone": STR}
WINDOW = obj({"id": INT, **{k: WINDOW_FIELDS[k] for k in ("name", "kind", "matchers")},
              "active_now": BOOL, "active_until": nullable(TIME), "next_start": nullable(TIME)})
COVERED = obj({"id": INT, "window": STR, "window_id": INT, "mode": STR, "until": nullable(TIME)},
              {"title": STR, "name": STR, "status": STR, "state": STR})
DELETED = {**json_ok(obj({"deleted": INT})), **errors(404, 409)}


def _crud(base: str, key: str, item: dict, fields: dict, required: tuple, tag: str, what: str,
          id_name: str) -> dict:
    """List/create on ``base``, change/delete on ``base/{id}``, all writes admin + CSRF."""
    one = {**json_ok(obj({key: item})), **errors(404, 409)}
    return {
        base: {"post": op(f"Add a {what}", {**json_ok(obj({key: item}), 201), **errors(409)},
                          body=obj({k: fields[k] for k in required},
                                   {k: v for k, v in fields.items() if k not in required}),
                          write=True, admin=True, tags=[tag])},
        f"{base}/{{{id_name}}}": {
            "put": op(f"Change a {what}", one, params=[path_id(id_name)], body=obj(optional=fields),
                      write=True, admin=True, tags=[tag]),
            "delete": op(f"Remove a {what}", DELETED, params=[path_id(id_name)], write=True, admin=True,
                         tags=[tag]),
        },
    }


def _routing() -> dict:
    docs = {}
    docs.update(_crud("/admin/api/contact-points", "contact_point", POINT, POINT_FIELDS, ("name", "kind"),
                      "routing", "contact point", "point_id"))
    docs.update(_crud("/admin/api/notification-policies", "policy", POLICY, POLICY_FIELDS, (),
                      "routing", "notification policy", "policy_id"))
    docs.update(_crud("/admin/api/inhibition-rules", "rule", INHIBITION, INHIBITION_FIELDS,
                      ("source_matchers", "target_matchers"), "routing", "inhibition rule", "rule_id"))
    docs.update(_crud("/admin/api/maintenance", "window", WINDOW, {**WINDOW_FIELDS, "confirm": BOOL},
                      ("name", "kind"), "maintenance", "maintenance window", "window_id"))
    docs["/admin/api/contact-points"]["get"] = op(
        "Every contact point (the two defaults, webhook and email, first) with its last delivery",
        json_ok(obj({"contact_points": arr(POINT)})), tags=["routing"])
    docs["/admin/api/contact-points/{point_id}/test"] = {"post": op(
        "Send a test message through a contact point now; answers whether it was delivered",
        {**json_ok(obj({"contact_point": STR, "delivered": BOOL, "error": nullable(STR), "at": TIME})),
         **errors(404, 409)}, params=[path_id("point_id")], write=True, admin=True, tags=["routing"])}
    docs["/admin/api/notification-policies"]["get"] = op(
        "The default policy and every stored one (parent_id makes the tree)",
        json_ok(obj({"default": obj(), "policies": arr(POLICY)})), tags=["routing"])
    docs["/admin/api/notification-policies/preview"] = {"post": op(
        "Where an alert with these labels would be sent",
        json_ok(obj({"routes": arr(obj({"policy_id": nullable(INT), "name": STR, "channels": arr(STR)}))})),
        body=obj(optional={"labels": {"type": "object", "additionalProperties": STR}, "severity": STR,
                           "alertname": STR}), write=True, tags=["routing"])}
    docs["/admin/api/inhibition-rules"]["get"] = op(
        "Every inhibition rule", json_ok(obj({"rules": arr(INHIBITION)})), tags=["routing"])
    docs["/admin/api/maintenance"]["get"] = op(
        "Every maintenance window, whether it mutes now and until when",
        json_ok(obj({"windows": arr(WINDOW), "confirm_hours": {"type": "number"},
                     "in_maintenance": obj({"alerts": arr(COVERED), "monitors": arr(COVERED)})})),
        tags=["maintenance"])
    for verb, what in (("start", "Start a manual window now (optionally for some minutes)"),
                       ("stop", "Stop a manual window now")):
        docs[f"/admin/api/maintenance/{{window_id}}/{verb}"] = {"post": op(
            what, {**json_ok(obj({"window": WINDOW})), **errors(404, 409)}, params=[path_id("window_id")],
            body=obj(optional={"minutes": {"type": "integer", "minimum": 1, "maximum": 10080}, "confirm": BOOL})
            if verb == "start" else None, body_required=False, write=True, admin=True, tags=["maintenance"])}
    docs["/admin/api/alerts/external"] = {"post": op(
        "Fire, refresh or resolve an alert from a script, deduplicated by key (or title and labels)",
        json_ok(obj({"alert": nullable(obj({"id": INT, "status": STR})), "changed": BOOL})),
        body=obj({"status": {"enum": ["firing", "resolved"]}},
                 {"key": STR, "title": STR, "severity": {"enum": ["critical", "warning", "info"]},
                  "labels": {"type": "object", "additionalProperties": STR},
                  "annotations": obj(optional={"summary": STR, "description": STR, "runbook_url": STR}),
                  "started_at": STR}),
        write=True, admin=True, tags=["alerts"])}
    return docs


def paths() -> dict:
    """Every path of this module."""
    return {**_tokens(), **_routing()}
