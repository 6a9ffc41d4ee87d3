"""Refusals and headers that hold for every route, present and future."""
from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

OPEN_ENDPOINTS = {"auth.login", "static", "health.healthz", "root"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint in OPEN_ENDPOINTS:
            continue
        args = {}
        for name, conv in rule._converters.items():
            args[name] = 1 if isinstance(conv, IntegerConverter) else "x"
        path = rule.build(args, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, path, method


def test_every_admin_route_refuses_anonymous_users(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)  # so the login check, not CSRF, answers
    client = app.test_client()
    seen = 0
    for rule, path, method in _routes(app):
        resp = client.open(path, method=method, json={} if method != "GET" else None)
        seen += 1
        if rule.rule.startswith("/admin/api"):
            assert resp.status_code == 401, (method, path, resp.status_code)
            assert resp.json["error"]["code"] == "unauthorized"
        elif rule.endpoint == "auth.logout":
            assert resp.status_code == 302 and "/admin/login" in resp.location
        else:
            assert resp.status_code == 302, (method, path, resp.status_code)
            assert "/admin/login" in resp.location
    assert seen >= 2


def test_every_state_change_refused_to_viewers(app, viewer_client):
    from blueprints.security import VIEWER_ALLOWED

    for rule, path, method in _routes(app):
        if method == "GET" or rule.endpoint in VIEWER_ALLOWED:
            continue
        resp = viewer_client.api(method, path, json={})
        assert resp.status_code == 403, (method, path, resp.status_code)


def test_state_change_without_csrf_is_refused(app, admin_client):
    for rule, path, method in _routes(app):
        if method != "GET" and rule.rule.startswith("/admin/api"):
            resp = admin_client.open(path, method=method, json={})
            assert resp.status_code == 400, (method, path)
            assert resp.json["error"]["code"] == "csrf_failed"
    resp = admin_client.post("/admin/logout")
    assert resp.status_code == 400
    assert admin_client.get("/admin/dashboard").status_code == 200


@pytest.mark.parametrize("path", ["/admin/login", "/admin/dashboard", "/healthz", "/nope"])
def test_security_headers_on_every_response(admin_client, path):
    resp = admin_client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"]


def test_pages_carry_the_csrf_meta_tag(admin_client):
    html = admin_client.get("/admin/dashboard").get_data(as_text=True)
    assert '<meta name="csrf-token" content="' in html
    assert "<script>" not in html  # the CSP forbids inline script


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "ok"


@pytest.mark.sqlite_only
@pytest.mark.parametrize("method,path,body", [
    ("GET", "/admin/api/alerts/99999999999999999999", None),
    ("GET", "/admin/api/analytics/channels?end=0001-01-22T01:00:01Z", None),
    ("GET", "/admin/api/analytics/revenue?start=9999-12-31T00:00:00Z", None),
    ("POST", "/admin/api/export", {"data_type": "transactions", "format": {}}),
    ("POST", "/admin/api/export", {"data_type": {}, "format": "csv"}),
    ("POST", "/admin/api/export", {"data_type": "logs", "format": "csv",
                                   "start": "0001-01-01T00:00:00Z", "end": "0001-02-01T00:00:00Z"}),
])
def test_inputs_found_by_fuzzing_get_4xx_json(admin_client, method, path, body):
    resp = admin_client.api(method, path, json=body)
    assert 400 <= resp.status_code < 500, resp.status_code
    assert resp.is_json and resp.json["error"]["message"]
