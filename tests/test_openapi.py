"""The OpenAPI document stays true: every route is in it, and real answers match its schemas."""
from __future__ import annotations

from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator

import database
from services.alerts import Alert
from services.openapi import spec as openapi_spec
from tests.helpers import INGEST

METHODS = {"get", "post", "put", "delete", "patch"}


def documented_routes(app):
    for rule in app.url_map.iter_rules():
        if openapi_spec.documented_prefix(rule.rule):
            for method in sorted(m.lower() for m in rule.methods or () if m.lower() in METHODS):
                yield rule, openapi_spec.openapi_path(rule.rule), method


@pytest.mark.sqlite_only
def test_every_route_is_documented(app):
    paths = openapi_spec.spec()["paths"]
    missing = [f"{method.upper()} {path}" for _rule, path, method in documented_routes(app)
               if method not in paths.get(path, {})]
    assert not missing, f"routes missing from services/openapi_paths*.py: {missing}"
    for rule, path, method in documented_routes(app):
        declared = {p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "path"}
        assert declared == set(rule.arguments), f"{method.upper()} {path}: path parameters differ"


@pytest.mark.sqlite_only
def test_document_is_valid_and_served_to_logged_in_users(client, admin_client):
    assert client.get("/admin/api/openapi.json").status_code == 401
    doc = admin_client.get("/admin/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/events" in doc["paths"] and "/admin/api/openapi.json" in doc["paths"]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert operation["responses"], f"{method} {path} documents no response"
            for response in operation["responses"].values():
                for media in response.get("content", {}).values():
                    Draft202012Validator.check_schema(media["schema"])


def validate(doc, path, method, resp):
    """Check ``resp`` against the documented schema of its status code."""
    operation = doc["paths"][path][method]
    status = str(resp.status_code)
    assert status in operation["responses"], f"{method.upper()} {path} answered undocumented {status}"
    content = operation["responses"][status].get("content", {})
    if "application/json" not in content:
        return
    schema = {**content["application/json"]["schema"], "components": doc["components"]}
    body = resp.get_json()
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, f"{method.upper()} {path} {status}: {errors[0].message} at {list(errors[0].path)}"


def seed(app, client):
    now = database.utcnow()
    resp = client.post("/api/v1/events", headers=INGEST, json={
        "transactions": [{"id": f"t{i}", "amount_cents": 100 * i, "currency": "EUR",
                          "status": ("completed", "pending", "failed")[i % 3], "customer_id": f"c{i % 2}",
                          "channel": "web", "created_at": (now - timedelta(minutes=5 * i)).isoformat()}
                         for i in range(1, 7)],
        "activities": [{"user_id": "u1", "action": "login"}, {"user_id": "u2", "action": "view"}],
        "logs": [{"service": "web", "level": "ERROR", "message": "boom"}]})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    with database.session_scope(app) as s:
        alert = Alert(rule_name="High CPU use", metric="cpu_percent", severity="warning", status="firing",
                      title="High CPU use: cpu_percent > 80%", value=91.0, threshold=80.0,
                      fired_at=now)
        s.add(alert)
        s.flush()
        return alert.id


def test_real_answers_match_the_schemas(app, client, admin_client):
    doc = openapi_spec.spec_for(app)
    alert_id = seed(app, client)
    checked = 0
    for rule, path, method in documented_routes(app):
        if method != "get":
            continue
        url = rule.rule.replace("<int:alert_id>", str(alert_id))
        if "<" in url:
            continue
        validate(doc, path, method, admin_client.get(url))
        checked += 1
    assert checked >= 10
    # Refusals are documented too, in the error shape.
    validate(doc, "/admin/api/alerts", "get", client.get("/admin/api/alerts"))
    validate(doc, "/admin/api/alerts", "get", admin_client.get("/admin/api/alerts?limit=0"))
    validate(doc, "/admin/api/alerts/{alert_id}", "get", admin_client.get("/admin/api/alerts/999999"))
    validate(doc, "/api/v1/events", "post", client.post("/api/v1/events", json={}))
    validate(doc, "/admin/api/cache/clear", "post", admin_client.api(
        "POST", "/admin/api/cache/clear", json={"namespace": "no-such-namespace"}))
    validate(doc, "/admin/api/cache/clear", "post", admin_client.api("POST", "/admin/api/cache/clear",
                                                                     json={}))
