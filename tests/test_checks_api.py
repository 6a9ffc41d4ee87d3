"""The monitors API: admins create, change, pause, delete, export and import; viewers only read;
bad input is refused naming the field, with nothing stored."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

import database
from services.accounts.models import AuditLog
from services.checks.models import Monitor

HTTP = {"name": "shop", "kind": "http", "url": "http://127.0.0.1:9/health",
        "expected_status": "200-299, 304", "keyword": "ok", "labels": {"service": "shop", "team": "web"}}


@pytest.fixture
def app(make_app):
    from tests.conftest import VIEWER
    from services.accounts import users

    application = make_app(MONITOR_ALLOW_PRIVATE=True)
    with database.session_scope(application) as session:
        users.create_user(session, VIEWER[0], VIEWER[1], "viewer", "pbkdf2:sha256:1000")
    return application


def _count(app) -> int:
    with database.session_scope(app) as s:
        return s.scalar(select(func.count()).select_from(Monitor))


def test_admin_creates_reads_updates_and_deletes(app, admin_client):
    resp = admin_client.api("POST", "/admin/api/monitors", json=HTTP)
    assert resp.status_code == 201, resp.get_json()
    monitor = resp.get_json()["monitor"]
    assert monitor["interval_seconds"] == 60 and monitor["failure_threshold"] == 3
    assert monitor["recovery_threshold"] == 2 and monitor["status"] == "pending"
    assert monitor["expected_status"] == [[200, 299], [304, 304]]
    listed = admin_client.get("/admin/api/monitors").get_json()["monitors"]
    assert [m["name"] for m in listed] == ["shop"]
    assert listed[0]["uptime_24h"] is None  # no checks yet: no made-up 100 %

    resp = admin_client.api("PUT", f"/admin/api/monitors/{monitor['id']}", json={"interval_seconds": 30})
    assert resp.status_code == 200
    assert resp.get_json()["monitor"]["interval_seconds"] == 30
    assert resp.get_json()["monitor"]["keyword"] == "ok"  # untouched fields stay
    detail = admin_client.get(f"/admin/api/monitors/{monitor['id']}").get_json()["monitor"]
    assert detail["results"] == [] and detail["events"] == []

    assert admin_client.api("DELETE", f"/admin/api/monitors/{monitor['id']}").status_code == 200
    assert admin_client.get(f"/admin/api/monitors/{monitor['id']}").status_code == 404
    with database.session_scope(app) as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.action.like("monitor.%"))
                            .order_by(AuditLog.id)).all()
    assert actions == ["monitor.create", "monitor.update", "monitor.delete"]


def test_viewer_reads_but_cannot_write(app, admin_client, viewer_client):
    created = admin_client.api("POST", "/admin/api/monitors", json=HTTP).get_json()["monitor"]
    assert viewer_client.get("/admin/api/monitors").status_code == 200
    assert viewer_client.get(f"/admin/api/monitors/{created['id']}").status_code == 200
    for method, path, body in [
            ("POST", "/admin/api/monitors", {**HTTP, "name": "other"}),
            ("PUT", f"/admin/api/monitors/{created['id']}", {"interval_seconds": 20}),
            ("POST", f"/admin/api/monitors/{created['id']}/pause", {"paused": True}),
            ("DELETE", f"/admin/api/monitors/{created['id']}", None),
            ("POST", "/admin/api/monitors/import", {"monitors": []})]:
        resp = viewer_client.api(method, path, json=body)
        assert resp.status_code == 403, (method, path)
    assert _count(app) == 1
    with database.session_scope(app) as s:
        m = s.get(Monitor, created["id"])
        assert (m.interval_seconds, m.paused) == (60, False)


@pytest.mark.parametrize("body, field", [
    ({**HTTP, "interval_seconds": 5}, "interval_seconds"),
    ({**HTTP, "interval_seconds": "60"}, "interval_seconds"),
    ({**HTTP, "kind": "ftp"}, "kind"),
    ({**HTTP, "url": "file:///etc/passwd"}, "url"),
    ({**HTTP, "url": None}, "url"),
    ({**HTTP, "expected_status": "200-abc"}, "expected_status"),
    ({**HTTP, "expected_status": "299-200"}, "expected_status"),
    ({**HTTP, "json_path": "$[?(@"}, "json_path"),
    ({**HTTP, "failure_threshold": 0}, "failure_threshold"),
    ({**HTTP, "timeout_seconds": 90, "interval_seconds": 60}, "timeout_seconds"),
    ({**HTTP, "labels": {"bad key": "x"}}, "labels"),
    ({**HTTP, "parent_id": 999}, "parent_id"),
    ({**HTTP, "intervall": 30}, "intervall"),
    ({**HTTP, "name": ""}, "name"),
    ({"name": "db", "kind": "tcp", "host": "127.0.0.1"}, "port"),
    ({"name": "db", "kind": "tcp", "host": "127.0.0.1", "port": 70000}, "port"),
    ({"name": "r", "kind": "redis", "url": "http://x"}, "url"),
    ({**HTTP, "method": "BREW"}, "method"),
])
def test_bad_input_names_the_field_and_stores_nothing(app, admin_client, body, field):
    resp = admin_client.api("POST", "/admin/api/monitors", json=body)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"]["field"] == field
    assert _count(app) == 0


def test_duplicate_name_conflicts_and_parent_cycles_are_refused(app, admin_client):
    a = admin_client.api("POST", "/admin/api/monitors", json=HTTP).get_json()["monitor"]
    assert admin_client.api("POST", "/admin/api/monitors", json=HTTP).status_code == 409
    b = admin_client.api("POST", "/admin/api/monitors",
                         json={**HTTP, "name": "child", "parent_id": a["id"]}).get_json()["monitor"]
    resp = admin_client.api("PUT", f"/admin/api/monitors/{a['id']}", json={"parent_id": b["id"]})
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "parent_id"
    resp = admin_client.api("PUT", f"/admin/api/monitors/{a['id']}", json={"kind": "tcp"})
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "kind"


def test_export_then_import_recreates_every_monitor(app, admin_client):
    parent = admin_client.api("POST", "/admin/api/monitors", json=HTTP).get_json()["monitor"]
    admin_client.api("POST", "/admin/api/monitors",
                     json={"name": "db-port", "kind": "tcp", "host": "127.0.0.1", "port": 5432,
                           "parent_id": parent["id"], "interval_seconds": 20})
    admin_client.api("POST", "/admin/api/monitors", json={"name": "cron", "kind": "push"})
    exported = admin_client.get("/admin/api/monitors/export").get_json()
    assert {m["name"] for m in exported["monitors"]} == {"shop", "db-port", "cron"}
    for m in list(admin_client.get("/admin/api/monitors").get_json()["monitors"]):
        admin_client.api("DELETE", f"/admin/api/monitors/{m['id']}")
    resp = admin_client.api("POST", "/admin/api/monitors/import", json=exported)
    assert resp.get_json() == {"created": 3, "updated": 0}
    again = admin_client.get("/admin/api/monitors/export").get_json()
    assert sorted(again["monitors"], key=lambda m: m["name"]) == \
        sorted(exported["monitors"], key=lambda m: m["name"])
    # Importing the same again updates by name instead of duplicating.
    assert admin_client.api("POST", "/admin/api/monitors/import", json=exported).get_json() == \
        {"created": 0, "updated": 3}
    bad = {"monitors": [exported["monitors"][0], {"name": "x", "kind": "tcp", "host": "h"}]}
    resp = admin_client.api("POST", "/admin/api/monitors/import", json=bad)
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "monitors[1].port"
    assert _count(app) == 3


def test_heartbeat_token_is_per_monitor_and_unknown_is_404(app, admin_client, client):
    created = admin_client.api("POST", "/admin/api/monitors",
                               json={"name": "cron", "kind": "push"}).get_json()["monitor"]
    other = admin_client.api("POST", "/admin/api/monitors",
                             json={"name": "cron2", "kind": "push"}).get_json()["monitor"]
    assert created["push_token"] != other["push_token"] and len(created["push_token"]) >= 24
    resp = client.post(created["heartbeat_path"], json={"status": "down", "message": "disk full"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "down"
    assert client.post(created["heartbeat_path"]).status_code == 200
    assert client.post("/api/v1/heartbeat/not-a-real-token-123").status_code == 404
    resp = client.post(created["heartbeat_path"], json={"status": "maybe"})
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "status"


def test_heartbeat_is_rate_limited(make_app, client):
    app = make_app(HEARTBEAT_RATE_LIMIT="3 per minute")
    with database.session_scope(app) as s:
        from services.checks import service

        token = service.create(s, {"name": "cron", "kind": "push"}).push_token
    c = app.test_client()
    codes = [c.post(f"/api/v1/heartbeat/{token}").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_guessing_heartbeat_tokens_is_limited_per_address(make_app):
    app = make_app(HEARTBEAT_RATE_LIMIT_IP="4 per minute")
    c = app.test_client()
    codes = [c.post(f"/api/v1/heartbeat/guess-{i:04d}-abcdefgh").status_code for i in range(6)]
    assert codes == [404, 404, 404, 404, 429, 429]


def test_services_page_is_in_the_nav_and_only_admins_get_the_form(admin_client, viewer_client):
    page = admin_client.get("/admin/services").get_data(as_text=True)
    assert 'href="/admin/services"' in page and 'id="monitor-form"' in page
    assert 'name="csrf-token"' in page
    # Within the CSP (script-src 'self'; style-src 'self'): no inline code.
    assert "<script>" not in page and "<style" not in page and " onclick=" not in page
    viewer_page = viewer_client.get("/admin/services").get_data(as_text=True)
    assert 'href="/admin/services"' in viewer_page and 'id="monitor-form"' not in viewer_page
