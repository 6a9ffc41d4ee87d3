"""Errors: JSON for the API, friendly HTML for people, never a stack trace."""
from __future__ import annotations

import pytest
from flask import Blueprint


def test_api_404_is_json(admin_client):
    resp = admin_client.get("/admin/api/does-not-exist")
    assert resp.status_code == 404
    assert resp.json["error"]["code"] == "not_found"


def test_page_404_is_html(admin_client):
    resp = admin_client.get("/admin/does-not-exist")
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    assert "Back to the dashboard" in resp.get_data(as_text=True)


def test_api_401_is_json(client):
    resp = client.get("/admin/api/anything")
    assert resp.status_code in (401, 404)
    assert resp.is_json


def test_method_not_allowed_is_json_on_api(admin_client):
    resp = admin_client.api("DELETE", "/admin/dashboard")
    assert resp.status_code == 405


@pytest.mark.sqlite_only
def test_500_hides_the_traceback(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    boom = Blueprint("boom", __name__)

    @boom.route("/admin/api/boom")
    def api_boom():
        raise RuntimeError("secret internals")

    @boom.route("/boom")
    def page_boom():
        raise RuntimeError("secret internals")

    app.register_blueprint(boom)
    c = app.test_client()
    api = c.get("/admin/api/boom")
    assert api.status_code == 500 and api.json["error"]["code"] == "internal_error"
    assert "secret internals" not in api.get_data(as_text=True)
    page = c.get("/boom")
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "secret internals" not in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)
