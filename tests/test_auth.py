"""Logging in and out, as a person and as an attacker would try it."""
from __future__ import annotations

import time

import database
from services.accounts import AuditLog, User
from sqlalchemy import select
from tests.helpers import ADMIN, VIEWER


def test_login_page_has_form_fields(client):
    html = client.get("/admin/login").get_data(as_text=True)
    for field in ('name="username"', 'name="password"', 'name="csrf_token"'):
        assert field in html


def test_login_then_dashboard_then_logout(client):
    resp = client.login(*ADMIN)
    assert resp.status_code == 302 and resp.location.endswith("/admin/dashboard")
    page = client.get("/admin/dashboard")
    assert page.status_code == 200 and ADMIN[0] in page.get_data(as_text=True)
    client.fetch_csrf("/admin/dashboard")
    out = client.post("/admin/logout", data={"csrf_token": client.csrf})
    assert out.status_code == 302 and "/admin/login" in out.location
    assert client.get("/admin/dashboard").status_code == 302


def test_wrong_password_is_refused_and_audited(app, client):
    resp = client.login(ADMIN[0], "not-the-password")
    assert resp.status_code == 401
    assert "Invalid username or password" in resp.get_data(as_text=True)
    assert client.get("/admin/dashboard").status_code == 302
    with database.session_scope(app) as s:
        outcomes = s.scalars(select(AuditLog.outcome).where(AuditLog.action == "login")).all()
    assert outcomes == ["failure"]


def test_unknown_user_gets_the_same_answer(client):
    resp = client.login("nobody", "whatever-password")
    assert resp.status_code == 401
    assert "Invalid username or password" in resp.get_data(as_text=True)


def test_login_without_csrf_is_refused(client):
    resp = client.post("/admin/login", data={"username": ADMIN[0], "password": ADMIN[1]})
    assert resp.status_code == 400
    assert client.get("/admin/dashboard").status_code == 302


def test_next_is_followed_only_when_same_site(client):
    token = client.fetch_csrf()
    ok = client.post("/admin/login?next=/admin/", data={
        "username": ADMIN[0], "password": ADMIN[1], "csrf_token": token, "next": "/admin/"})
    assert ok.location.endswith("/admin/")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        client2 = client.application.test_client()
        token = client2.fetch_csrf()
        resp = client2.post("/admin/login", data={
            "username": ADMIN[0], "password": ADMIN[1], "csrf_token": token, "next": evil})
        assert resp.location.endswith("/admin/dashboard"), evil


def test_account_rate_limit_answers_429_with_retry_after(client, app):
    for _ in range(5):
        assert client.login(ADMIN[0], "wrong-password").status_code == 401
    locked = client.login(ADMIN[0], ADMIN[1])
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    # the lock is per account and address: the real admin elsewhere still gets in
    other = app.test_client()
    token = other.fetch_csrf()
    resp = other.post("/admin/login", data={"username": ADMIN[0], "password": ADMIN[1],
                                             "csrf_token": token},
                      environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert resp.status_code == 302


def test_ip_rate_limit_across_accounts(make_app):
    app = make_app(LOGIN_RATE_LIMIT_IP="3 per minute")
    c = app.test_client()
    codes = [c.login(f"user{i}", "wrong-password").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_successful_logins_are_not_rate_limited(client):
    for _ in range(7):
        assert client.login(*ADMIN).status_code == 302


def test_replayed_cookie_after_logout_is_refused(app, admin_client):
    cookie = admin_client.get_cookie("admin_session")
    assert cookie is not None
    stolen = app.test_client()
    stolen.set_cookie("admin_session", cookie.value)
    assert stolen.get("/admin/dashboard").status_code == 200
    admin_client.post("/admin/logout", data={"csrf_token": admin_client.csrf})
    assert stolen.get("/admin/dashboard").status_code == 302
    assert stolen.get("/admin/api/health").status_code in (401, 404)


def test_password_change_ends_sessions(app, admin_client):
    from services.accounts import users

    with database.session_scope(app) as s:
        user = users.get_by_username(s, ADMIN[0])
        users.set_password(user, "a-brand-new-password", "pbkdf2:sha256:1000")
    assert admin_client.get("/admin/dashboard").status_code == 302


def test_absolute_session_timeout(app, admin_client):
    with admin_client.session_transaction() as sess:
        sess["auth_at"] = time.time() - app.config["SESSION_ABSOLUTE_HOURS"] * 3600 - 5
    assert admin_client.get("/admin/dashboard").status_code == 302


def test_idle_timeout_is_the_cookie_lifetime(app, admin_client):
    cookie = admin_client.get_cookie("admin_session")
    assert cookie.expires is not None
    assert app.permanent_session_lifetime.total_seconds() == app.config["SESSION_IDLE_MINUTES"] * 60


def test_session_cookie_flags(client):
    resp = client.login(*ADMIN)
    header = resp.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    secure = client.application.test_client()
    token = secure.fetch_csrf()
    resp = secure.post("/admin/login", base_url="https://localhost",
                       data={"username": ADMIN[0], "password": ADMIN[1], "csrf_token": token},
                       headers={"Referer": "https://localhost/admin/login"})
    assert "Secure" in resp.headers.get("Set-Cookie", "")


def test_bootstrap_admin_never_overwrites(make_app):
    app = make_app()
    app2 = make_app(ADMIN_USERNAME="someone", ADMIN_PASSWORD="other-password")
    with database.session_scope(app2) as s:
        names = s.scalars(select(User.username)).all()
    assert names == [ADMIN[0]]
    assert app.test_client().login(*ADMIN).status_code == 302


def test_viewer_can_read_but_not_change(viewer_client):
    assert viewer_client.get("/admin/dashboard").status_code == 200
    # logging out is the one change a viewer may make
    out = viewer_client.post("/admin/logout", data={"csrf_token": viewer_client.csrf})
    assert out.status_code == 302


def test_viewer_role_shown(viewer_client):
    html = viewer_client.get("/admin/dashboard").get_data(as_text=True)
    assert VIEWER[0] in html and "viewer" in html
