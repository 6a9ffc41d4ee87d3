"""Crafted JSON bodies get a 4xx naming the field, on both databases, and change nothing.

Deep nesting, NUL bytes and lone surrogates in any text field, numbers too large for a float,
rule names equal but for case or Unicode form, concurrent creates of one name, bodies that are
not JSON, and values that case folding would have turned valid.
"""
from __future__ import annotations

import json
import re
import threading

import pytest
from sqlalchemy import func, select

import database
from services.alerts import AlertRule
from services.ingest import Transaction, UserActivity
from services.logs import LogEntry
from services.infra import breaker as circuit_breaker
from services.openapi import spec as openapi_spec
from services.infra import MAX_JSON_DEPTH
from tests.helpers import INGEST

TX = {"id": "t-1", "amount_cents": 100, "currency": "EUR", "status": "completed",
      "customer_id": "c-1", "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z",
      "channel": "web"}
ACTIVITY = {"user_id": "u-1", "action": "login", "detail": "from the app",
            "created_at": "2026-11-01T10:00:00Z"}
LOG = {"service": "web", "level": "INFO", "message": "ok", "logger": "app.web",
       "created_at": "2026-11-01T10:00:00Z"}
ITEM_FIELDS = [("transactions", TX, f) for f in TX] + [("activities", ACTIVITY, f) for f in ACTIVITY] \
    + [("logs", LOG, f) for f in LOG]
RULE = {"name": "Busy", "metric": "cpu_percent", "operator": ">", "threshold": 90}


def _ingest(client, raw: str, content_type: str = "application/json"):
    return client.post("/api/v1/events", data=raw.encode(), headers=INGEST, content_type=content_type)


def _stored(app) -> tuple[int, int, int]:
    with database.session_scope(app) as s:
        return tuple(s.scalar(select(func.count()).select_from(t))
                     for t in (Transaction, UserActivity, LogEntry))


def _with_text(item: dict, field: str, text: str) -> str:
    """``item`` as JSON with ``text`` spliced into ``field`` (raw JSON: a lone surrogate escape
    cannot be made from a Python str)."""
    return json.dumps({**item, field: "@@"}).replace('"@@"', '"' + text + '"')


@pytest.mark.parametrize("kind, item, field", ITEM_FIELDS)
@pytest.mark.parametrize("text", ["ab\\u0000c", "ab\\udfffc", "\\ud800"], ids=["nul", "low", "high"])
def test_unstorable_text_in_any_ingested_field(app, client, kind, item, field, text):
    resp = _ingest(client, '{"%s": [%s]}' % (kind, _with_text(item, field, text)))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    error = resp.get_json()["error"]
    assert (error["code"], error["kind"], error["index"], error["field"]) == (
        "invalid_item", kind, 0, field)
    assert _stored(app) == (0, 0, 0)


def test_a_nul_byte_is_not_an_outage(make_app):
    """It once answered 503 database_unavailable on PostgreSQL, so senders retried forever."""
    app = make_app(DB_BREAKER_FAIL_MAX=2)
    client = app.test_client()
    bad = '{"logs": [{"service": "web", "level": "INFO", "message": "a\\u0000b"}]}'
    for _ in range(4):
        resp = _ingest(client, bad)
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "message"
    with app.app_context():
        assert circuit_breaker.state()["state"] == "closed"
    assert client.post("/api/v1/events", json={"logs": [LOG]}, headers=INGEST).status_code == 202


def test_a_value_the_database_refuses_is_the_senders_error(app, client, monkeypatch):
    """Should a value pass validation yet be refused by the database, the sender hears 400 (fix
    the data), not 503 (retry later), and nothing of the batch is kept."""
    from sqlalchemy.exc import DataError

    from services.ingest import rollups

    def refuse(_session, _deltas):
        raise DataError("INSERT INTO revenue_rollups", {}, Exception("value out of range"))

    monkeypatch.setattr(rollups, "apply", refuse)
    resp = client.post("/api/v1/events", json={"transactions": [TX], "logs": [LOG]}, headers=INGEST)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_item"
    assert _stored(app) == (0, 0, 0)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/xml", ""])
def test_ingest_refuses_a_body_that_is_not_json(app, client, content_type):
    resp = _ingest(client, json.dumps({"logs": [LOG]}), content_type)
    assert resp.status_code == 415 and resp.get_json()["error"]["code"] == "unsupported_media_type"
    assert _stored(app) == (0, 0, 0)


@pytest.mark.parametrize("field, value", [
    ("currency", "ısd"), ("currency", "uſd"), ("status", "\u212aompleted"), ("channel", "\u212aiosk"),
    ("level", "ınfo"), ("level", "warnıng"),
])
def test_ingest_checks_values_before_case_folding(app, client, field, value):
    kind, item = ("logs", LOG) if field == "level" else ("transactions", TX)
    resp = client.post("/api/v1/events", json={kind: [{**item, field: value}]}, headers=INGEST)
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field
    assert _stored(app) == (0, 0, 0)


def _json_routes(app) -> list[tuple[str, str]]:
    """Every documented operation that reads a JSON body, path ids filled in."""
    spec = openapi_spec.spec_for(app)
    return sorted((method.upper(), re.sub(r"\{\w+_id\}", "1", path))
                  for path, item in spec["paths"].items() for method, op in item.items()
                  if "application/json" in op.get("requestBody", {}).get("content", {}))


def _nested(depth: int) -> str:
    return '{"a": ' * (depth - 1) + "[]" + "}" * (depth - 1)


def test_deeply_nested_json_on_every_json_route(app, admin_client):
    routes = _json_routes(app)
    assert ("POST", "/api/v1/events") in routes and len(routes) >= 9
    for method, path in routes:
        for body in ("[" * 100_000 + "]" * 100_000, _nested(MAX_JSON_DEPTH + 1), "[" * 50_000):
            resp = admin_client.api(method, path, data=body, content_type="application/json",
                                    headers=INGEST if path.startswith("/api/") else {})
            assert resp.status_code == 400, (method, path, resp.status_code)
            assert resp.get_json()["error"]["code"] == "too_deep", (method, path)
        # At the limit the body is read (and refused, or not, for what it says).
        at_limit = admin_client.api(method, path, data=_nested(MAX_JSON_DEPTH),
                                    content_type="application/json",
                                    headers=INGEST if path.startswith("/api/") else {})
        assert at_limit.status_code < 500, (method, path)
        assert at_limit.status_code < 400 or at_limit.get_json()["error"]["code"] != "too_deep"
    assert _stored(app) == (0, 0, 0)


def test_admin_json_routes_refuse_other_content_types(admin_client):
    resp = admin_client.api("POST", "/admin/api/alerts/rules", data=json.dumps(RULE),
                            content_type="text/plain")
    assert resp.status_code == 415 and resp.get_json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("field, value", [
    ("name", "Busy\\udfff"), ("name", "Bu\\u0000sy"), ("metric", "cpu\\udfff"),
    ("severity", "\\ud800"), ("operator", "\\u0000"),
])
def test_unstorable_text_in_a_rule(app, admin_client, field, value):
    raw = _with_text(RULE, field, value)
    for method, path in (("POST", "/admin/api/alerts/rules"), ("PUT", "/admin/api/alerts/rules/1")):
        resp = admin_client.api(method, path, data=raw, content_type="application/json")
        assert resp.status_code == 400, (method, resp.get_data(as_text=True))
        assert resp.get_json()["error"]["field"] == f"body.{field}"
    with database.session_scope(app) as s:
        assert s.scalar(select(AlertRule).where(AlertRule.name.like("Bu%"))) is None


def test_unstorable_text_in_a_note(admin_client):
    resp = admin_client.api("POST", "/admin/api/alerts/1/acknowledge",
                            data='{"note": "on it\\u0000"}', content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "body.note"


@pytest.mark.parametrize("threshold", ["9" * 4000, "-" + "9" * 4000, "1e400", "1" + "0" * 16])
def test_thresholds_beyond_a_float(admin_client, threshold):
    raw = json.dumps(RULE).replace("90", threshold)
    resp = admin_client.api("POST", "/admin/api/alerts/rules", data=raw, content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_rule"
    assert "threshold" in resp.get_json()["error"]["message"]


def test_params_beyond_a_float(admin_client):
    resp = admin_client.api("POST", "/admin/api/alerts/rules", json={
        **RULE, "metric": "failed_payment_rate", "params": {"window_minutes": 10**400}})
    assert resp.status_code == 400 and "window_minutes" in resp.get_json()["error"]["message"]


@pytest.mark.parametrize("first, second", [
    ("Ärger", "ärger"), ("ÄRGER", "ärger"), ("Straße", "STRASSE"), ("Ｂｕｓｙ ｃｐｕ", "busy CPU"),
    ("\u212aelvin", "kelvin"), ("Σίσυφος", "ΣΊΣΥΦΟΣ"),
])
def test_names_that_differ_only_by_case_or_form_conflict(admin_client, first, second):
    assert admin_client.api("POST", "/admin/api/alerts/rules", json={**RULE, "name": first}).status_code == 201
    again = admin_client.api("POST", "/admin/api/alerts/rules", json={**RULE, "name": second})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    other = admin_client.api("POST", "/admin/api/alerts/rules", json={**RULE, "name": second + " 2"})
    renamed = admin_client.api("PUT", f"/admin/api/alerts/rules/{other.get_json()['rule']['id']}",
                               json={"name": second})
    assert renamed.status_code == 409


def test_concurrent_creates_of_one_name(app, admin_client):
    """Eight admins press save at once: one rule is created, the others are told it exists."""
    cookie = admin_client.get_cookie("admin_session").value
    clients = []
    for _ in range(8):
        c = app.test_client()
        c.set_cookie("admin_session", cookie)
        c.csrf = admin_client.csrf
        clients.append(c)
    names = ["Same name", "same NAME", "SAME name", "Same name"] * 2
    start, answers = threading.Barrier(len(clients)), []

    def create(client, name):
        start.wait()
        answers.append(client.api("POST", "/admin/api/alerts/rules", json={**RULE, "name": name}))

    threads = [threading.Thread(target=create, args=pair) for pair in zip(clients, names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.status_code for r in answers) == [201] + [409] * 7, \
        [(r.status_code, r.get_data(as_text=True)[:200]) for r in answers]
    with database.session_scope(app) as s:
        assert s.scalar(select(func.count()).select_from(AlertRule)
                        .where(func.lower(AlertRule.name) == "same name")) == 1
