"""The routing API refuses bad input with the field named and nothing changed; viewers only read;
a contact point in use cannot be deleted; the preview says where an alert would go."""
from __future__ import annotations

from sqlalchemy import func, select

import database
from services.routing.models import ContactPoint, NotificationPolicy


def count(app, model):
    with database.session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(model))


def point_names(app):
    with database.session_scope(app) as session:
        return sorted(session.scalars(select(ContactPoint.name)))


def test_bad_contact_points_and_policies_name_the_field(app, admin_client):
    for body, field in (({"name": "x", "kind": "sms"}, "kind"),
                        ({"name": "x", "kind": "webhook", "url": "javascript:alert(1)"}, "url"),
                        ({"name": "x", "kind": "email", "addresses": ["not-an-address"]}, "addresses"),
                        ({"name": "", "kind": "email", "addresses": ["a@b.c"]}, "name"),
                        ({"name": "x", "kind": "email", "addresses": ["a@b.c"], "secret": 1}, "body")):
        resp = admin_client.api("POST", "/admin/api/contact-points", json=body)
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field, body
    assert admin_client.api("POST", "/admin/api/contact-points",
                            json={"name": "webhook", "kind": "email", "addresses": ["a@b.c"]}).status_code == 409
    for body, field in (({"matchers": [{"label": "team", "op": "==", "value": "ml"}]}, "matchers[0].op"),
                        ({"matchers": [{"label": "team", "op": "=~", "value": "(unclosed"}]}, "matchers[0].value"),
                        ({"contact_points": ["nobody"]}, "contact_points"),
                        ({"group_wait": -1}, "group_wait"), ({"repeat_interval": 10**9}, "repeat_interval"),
                        ({"parent_id": 12345}, "parent_id"), ({"parent_id": -3148337432}, "parent_id"),
                        ({"parent_id": 2**40}, "parent_id"), ({"continue": "yes"}, "continue"),
                        ({"group_by": ["bad label"]}, "group_by")):
        resp = admin_client.api("POST", "/admin/api/notification-policies", json=body)
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field, body
    # Only the two default contact points (the settings' webhook and e-mail) exist.
    assert point_names(app) == ["email", "webhook"] and count(app, NotificationPolicy) == 0


def test_contact_point_in_use_is_kept_and_the_preview_routes(app, admin_client, viewer_client):
    point = admin_client.api("POST", "/admin/api/contact-points",
                             json={"name": "ML chat", "kind": "webhook", "url": "https://chat.example.com/hook/secret"})
    assert point.status_code == 201
    shown = point.get_json()["contact_point"]
    assert shown["target"] == "https://chat.example.com" and "secret" not in str(shown)
    parent = admin_client.api("POST", "/admin/api/notification-policies", json={
        "name": "ML", "matchers": [{"label": "team", "op": "=", "value": "ml"}], "contact_points": ["ML chat"]})
    assert parent.status_code == 201
    pid = parent.get_json()["policy"]["id"]
    # Alerts now reach someone even without the settings channels: the page's warning is off.
    assert admin_client.get("/admin/api/alerts/channels").get_json()["contact_points"] == 1
    below_itself = admin_client.api("PUT", f"/admin/api/notification-policies/{pid}", json={"parent_id": pid})
    assert below_itself.status_code == 400
    refused = admin_client.api("DELETE", f"/admin/api/contact-points/{shown['id']}")
    assert refused.status_code == 409 and "ML" in refused.get_json()["error"]["message"]

    preview = viewer_client.api("POST", "/admin/api/notification-policies/preview",
                                json={"labels": {"team": "ml"}, "severity": "critical"}).get_json()["routes"]
    assert [(r["name"], r["channels"]) for r in preview] == [("ML", [f"cp:{shown['id']}"])]
    other = viewer_client.api("POST", "/admin/api/notification-policies/preview", json={"labels": {"team": "web"}})
    assert [(r["name"], r["channels"]) for r in other.get_json()["routes"]] == [("default", ["webhook", "email"])]
    assert viewer_client.api("POST", "/admin/api/contact-points",
                             json={"name": "v", "kind": "email", "addresses": ["a@b.c"]}).status_code == 403
    assert viewer_client.get("/admin/api/contact-points").status_code == 200

    assert admin_client.api("DELETE", f"/admin/api/notification-policies/{pid}").status_code == 200
    assert admin_client.get("/admin/api/alerts/channels").get_json()["contact_points"] == 0
    assert admin_client.api("DELETE", f"/admin/api/contact-points/{shown['id']}").status_code == 200
    assert point_names(app) == ["email", "webhook"]
