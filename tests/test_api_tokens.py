"""Personal API tokens: shown once, stored hashed, scoped, expiring, revocable, audited; a bearer
call acts as the owner with no cookie and no CSRF token, and is refused on pages."""
from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

import database
from services.alerts.models import AlertRule
from services.accounts.models import AuditLog
from services.accounts.tokens_models import ApiToken

RULE = {"name": "Scripted rule", "metric": "cpu_percent", "operator": ">", "threshold": 90}


def make_token(client, scope="read-write", days=30, name="deploy script"):
    resp = client.api("POST", "/admin/api/tokens", json={"name": name, "scope": scope, "expires_in_days": days})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    return body["token"], body["secret"]


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def audit_rows(app, action):
    with database.session_scope(app) as session:
        return [(a.actor, a.outcome, a.detail) for a in session.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))]


def test_token_is_shown_once_stored_hashed_and_acts_as_owner_without_cookie_or_csrf(app, admin_client, client):
    token, secret = make_token(admin_client)
    assert secret.startswith("adm_") and len(secret) > 40 and token["scope"] == "read-write"
    listed = admin_client.get("/admin/api/tokens").get_json()["tokens"]
    assert [t["id"] for t in listed] == [token["id"]] and secret not in str(listed)
    with database.session_scope(app) as session:
        row = session.get(ApiToken, token["id"])
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in row.token_hash

    read = client.get("/admin/api/alerts/rules", headers=bearer(secret))
    assert read.status_code == 200 and "Set-Cookie" not in read.headers
    created = client.post("/admin/api/alerts/rules", json=RULE, headers=bearer(secret))
    assert created.status_code == 201, created.get_json()
    with database.session_scope(app) as session:
        assert session.scalar(select(AlertRule).where(AlertRule.name == "Scripted rule")) is not None
        assert session.get(ApiToken, token["id"]).last_used_at is not None
    assert [a for a, o, _ in audit_rows(app, "alert_rule.create")] == ["admin"]
    assert audit_rows(app, "api_token.create")[0][0] == "admin"
    shown = admin_client.get("/admin/api/tokens").get_json()["tokens"][0]
    assert shown["last_used_at"] is not None and shown["state"] == "active"


def test_read_scope_reads_but_cannot_write(app, admin_client, client):
    _, secret = make_token(admin_client, scope="read")
    assert client.get("/admin/api/alerts", headers=bearer(secret)).status_code == 200
    refused = client.post("/admin/api/alerts/rules", json=RULE, headers=bearer(secret))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "insufficient_scope"
    with database.session_scope(app) as session:
        assert session.scalar(select(AlertRule).where(AlertRule.name == "Scripted rule")) is None
    assert audit_rows(app, "api_token.use")[-1][1:] == ("failure", {
        "reason": "read-only token used to write", "path": "/admin/api/alerts/rules", "method": "POST"})


def test_expired_revoked_and_unknown_tokens_answer_401_and_are_audited(app, admin_client, client):
    expired, expired_secret = make_token(admin_client, name="old")
    revoked, revoked_secret = make_token(admin_client, name="gone")
    with database.session_scope(app) as session:
        session.get(ApiToken, expired["id"]).expires_at = database.utcnow() - timedelta(seconds=1)
    assert admin_client.api("DELETE", f"/admin/api/tokens/{revoked['id']}").get_json()["token"]["state"] == "revoked"
    for secret, reason in ((expired_secret, "token expired"), (revoked_secret, "token revoked"),
                           ("adm_" + "x" * 43, "unknown token")):
        resp = client.get("/admin/api/alerts", headers=bearer(secret))
        assert resp.status_code == 401 and reason in resp.get_json()["error"]["message"]
    reasons = [d["reason"] for _, o, d in audit_rows(app, "api_token.use") if o == "failure"]
    assert reasons == ["token expired", "token revoked", "unknown token"]
    assert [a for a, _, _ in audit_rows(app, "api_token.revoke")] == ["admin"]


def test_viewer_token_keeps_the_viewer_role(app, viewer_client, client):
    _, secret = make_token(viewer_client)
    assert client.get("/admin/api/alerts", headers=bearer(secret)).status_code == 200
    assert client.post("/admin/api/alerts/rules", json=RULE, headers=bearer(secret)).status_code == 403


def test_tokens_are_refused_on_pages_and_cannot_manage_tokens(admin_client, client):
    _, secret = make_token(admin_client)
    page = client.get("/admin/dashboard", headers=bearer(secret))
    assert page.status_code == 302 and "/admin/login" in page.headers["Location"]
    minted = client.post("/admin/api/tokens", json={"name": "x"}, headers=bearer(secret))
    assert minted.status_code == 403 and minted.get_json()["error"]["code"] == "session_required"


def test_a_cookie_request_still_needs_csrf_even_with_a_bearer_header(app, admin_client):
    _, secret = make_token(admin_client)
    resp = admin_client.post("/admin/api/alerts/rules", json=RULE, headers=bearer(secret))
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "csrf_failed"
    with database.session_scope(app) as session:
        assert session.scalar(select(AlertRule).where(AlertRule.name == "Scripted rule")) is None


def test_bad_requests_name_the_field_and_change_nothing(app, admin_client):
    for body, field in (({"name": ""}, "name"), ({"name": "x", "scope": "admin"}, "scope"),
                        ({"name": "x", "expires_in_days": 0}, "expires_in_days"),
                        ({"name": "x", "expires_in_days": 366}, "expires_in_days"),
                        ({"name": "x", "owner": 1}, "body")):
        resp = admin_client.api("POST", "/admin/api/tokens", json=body)
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field, body
    assert admin_client.api("DELETE", "/admin/api/tokens/999").status_code == 404
    with database.session_scope(app) as session:
        assert session.scalars(select(ApiToken)).all() == []


def test_someone_elses_token_cannot_be_revoked(app, admin_client, viewer_client):
    token, _ = make_token(admin_client)
    assert viewer_client.api("DELETE", f"/admin/api/tokens/{token['id']}").status_code == 404
    assert admin_client.get("/admin/api/tokens").get_json()["tokens"][0]["state"] == "active"


def test_the_socket_refuses_a_token(app, admin_client):
    from extensions import socketio

    _, secret = make_token(admin_client)
    sc = socketio.test_client(app, headers=bearer(secret))
    assert not sc.is_connected()
