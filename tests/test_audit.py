"""The audit trail: every kind of action lands in it, admins read it with filters, nobody edits it."""
from __future__ import annotations

from sqlalchemy import func, select

import database
from services.accounts import AuditLog
from tests.helpers import ADMIN


def _entries(c, query=""):
    resp = c.get(f"/admin/api/audit?limit=500{query}")
    assert resp.status_code == 200, resp.json
    return resp.json["entries"]


def _count(app):
    with database.session_scope(app) as s:
        return s.scalar(select(func.count()).select_from(AuditLog))


def test_actions_across_the_panel_are_recorded(app, admin_client, viewer_client, client):
    # A failed login, then a 403 from a viewer, a cache clear, a rule change, an export, a bad key.
    client.login("admin", "wrong-password")
    assert viewer_client.api("POST", "/admin/api/cache/clear", json={}).status_code == 403
    assert admin_client.api("POST", "/admin/api/cache/clear", json={}).status_code == 200
    rule = admin_client.api("POST", "/admin/api/alerts/rules", json={
        "name": "Audit CPU", "metric": "cpu_percent", "operator": ">", "threshold": 95,
        "for_seconds": 0, "severity": "warning", "enabled": True, "channels": []})
    assert rule.status_code in (200, 201), rule.json
    url = admin_client.api("POST", "/admin/api/export", json={"data_type": "logs", "format": "csv"}).json["url"]
    assert admin_client.get(url).status_code == 200
    assert client.post("/api/v1/events", json={"logs": []},
                       headers={"Authorization": "Bearer wrong"}).status_code == 401
    admin_client.api("POST", "/admin/logout")

    entries = _entries(viewer_login_as_admin(app))
    seen = {(e["action"], e["actor"], e["outcome"]) for e in entries}
    assert ("login", "admin", "failure") in seen
    assert ("login", "admin", "success") in seen and ("login", "viewer", "success") in seen
    assert ("forbidden", "viewer", "denied") in seen
    assert ("cache.clear", "admin", "success") in seen
    assert ("alert_rule.create", "admin", "success") in seen
    assert ("export.create", "admin", "success") in seen and ("export.download", "admin", "success") in seen
    assert any(a == "ingest.bad_key" for a, _, _ in seen)
    assert ("logout", "admin", "success") in seen
    forbidden = next(e for e in entries if e["action"] == "forbidden")
    assert forbidden["target"] == "POST /admin/api/cache/clear" and forbidden["ip"] == "127.0.0.1"
    # Newest first.
    times = [e["created_at"] for e in entries]
    assert times == sorted(times, reverse=True)


def viewer_login_as_admin(app):
    c = app.test_client()
    assert c.login(*ADMIN).status_code == 302
    return c


def test_filters_and_paging(app, admin_client):
    for i in range(7):
        bad = app.test_client()
        bad.login(f"intruder{i % 2}", "nope")
    assert {e["actor"] for e in _entries(admin_client, "&actor=intruder1")} == {"intruder1"}
    assert len(_entries(admin_client, "&actor=intruder1")) == 3
    failures = _entries(admin_client, "&action=login&outcome=failure")
    assert len(failures) == 7 and all(e["outcome"] == "failure" for e in failures)
    # "export" matches export.create and export.download.
    url = admin_client.api("POST", "/admin/api/export", json={"data_type": "logs", "format": "json"}).json["url"]
    admin_client.get(url)
    assert sorted(e["action"] for e in _entries(admin_client, "&action=export")) == \
        ["export.create", "export.download"]
    pages, cursor = [], None
    while True:
        resp = admin_client.get("/admin/api/audit?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        pages += [e["id"] for e in resp.json["entries"]]
        cursor = resp.json["next_cursor"]
        if not cursor:
            break
    assert pages == [e["id"] for e in _entries(admin_client)] and len(set(pages)) == len(pages)
    future = "2999-01-01T00:00:00%2B00:00"
    assert _entries(admin_client, f"&since={future}") == []
    assert admin_client.get("/admin/api/audit?cursor=zzz").status_code == 400


def test_viewers_are_refused_and_the_refusal_is_recorded(app, viewer_client):
    resp = viewer_client.get("/admin/api/audit")
    assert resp.status_code == 403 and resp.is_json
    assert viewer_client.get("/admin/audit").status_code == 403
    with database.session_scope(app) as s:
        targets = s.scalars(select(AuditLog.target).where(AuditLog.action == "forbidden",
                                                          AuditLog.actor == "viewer")).all()
    assert targets == ["GET /admin/api/audit", "GET /admin/audit"]


def test_the_trail_cannot_be_edited_from_the_panel(app, admin_client):
    before = _count(app)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert admin_client.api(method, "/admin/api/audit", json={}).status_code == 405
        assert admin_client.api(method, "/admin/api/audit/1", json={}).status_code in (404, 405)
    assert _count(app) == before


def test_audit_page_for_admins(app, admin_client):
    resp = admin_client.get("/admin/audit")
    assert resp.status_code == 200 and 'id="audit-table"' in resp.get_data(as_text=True)


def test_cli_user_changes_are_audited(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "carol", "--role", "viewer", "--password-stdin"],
                           input="carol-password\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["set-password", "carol", "--password-stdin"], input="carol-password-2\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-user", "carol", "--password-stdin"], input="whatever-pass\n")
    assert result.exit_code != 0
    with database.session_scope(app) as s:
        rows = s.execute(select(AuditLog.action, AuditLog.target, AuditLog.outcome)
                         .where(AuditLog.action.startswith("user.")).order_by(AuditLog.id)).all()
    assert [tuple(r) for r in rows] == [("user.create", "carol", "success"),
                                        ("user.set_password", "carol", "success"),
                                        ("user.create", "carol", "failure")]
