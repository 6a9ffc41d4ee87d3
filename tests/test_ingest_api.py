"""POST /api/v1/events as another service uses it: what is stored, and every refusal."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

import database
from services.accounts import AuditLog
from services.ingest import RevenueRollup, Transaction, UserActivity
from services.logs import LogEntry
from services.infra import bus as events
from services.ingest import rollups
from tests.helpers import INGEST, INGEST_KEY, bearer, transaction

URL = "/api/v1/events"
KEY = INGEST


def tx(i, **over):
    item = transaction(f"t{i}", 1000 + i, at="2026-11-20T10:07:00Z", customer_id=f"c{i % 3}",
                       channel="web")
    item.update(over)  # an explicit None stays in the body (a null the API must refuse or accept)
    return item


def counts(app):
    with database.session_scope(app) as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Transaction, UserActivity, LogEntry))


def rollup(app, when="2026-11-20T10:00:00+00:00", currency="USD", channel="web"):
    from datetime import datetime
    with database.session_scope(app) as s:
        row = s.get(RevenueRollup, (datetime.fromisoformat(when), currency, channel))
        return None if row is None else {f: getattr(row, f) for f in rollups.FIELDS}


@pytest.fixture
def published():
    seen = []
    handlers = {t: (lambda p, t=t: seen.append((t, p)))
                for t in ("transaction.stored", "activity.stored", "log.stored", "ingest.committed")}
    for topic, h in handlers.items():
        events.subscribe(topic, h)
    yield seen
    for topic, h in handlers.items():
        events.unsubscribe(topic, h)


def test_batch_is_stored_counted_and_announced(app, client, published):
    body = {"transactions": [tx(1), tx(2, status="pending"), tx(3, status="failed", channel=None)],
            "activities": [{"user_id": "u1", "action": "login"},
                           {"user_id": "u2", "action": "search", "detail": "shoes",
                            "created_at": "2026-11-20T09:00:00+01:00"}],
            "logs": [{"service": "payments", "level": "warn", "message": "slow provider"}]}
    resp = client.post(URL, json=body, headers=KEY)  # no CSRF token: the API is exempt
    assert resp.status_code == 202
    assert resp.json["accepted"] == {"transactions": 3, "activities": 2, "logs": 1}
    assert counts(app) == (3, 2, 1)
    assert rollup(app) == {"completed": 1, "pending": 1, "failed": 0, "refunded": 0, "revenue_cents": 1001}
    assert rollup(app, channel="")["failed"] == 1
    with database.session_scope(app) as s:
        log = s.scalars(select(LogEntry)).one()
        assert (log.level, log.level_no, log.service) == ("WARNING", 30, "payments")
        act = s.scalars(select(UserActivity).where(UserActivity.user_id == "u2")).one()
        assert act.created_at.isoformat() == "2026-11-20T08:00:00+00:00"
    topics = [t for t, _ in published]
    assert topics.count("transaction.stored") == 3 and topics.count("activity.stored") == 2
    assert topics.count("log.stored") == 1 and topics[-1] == "ingest.committed"
    stored = dict((p["id"], p) for t, p in published if t == "transaction.stored")
    assert stored["t2"]["status"] == "pending" and stored["t2"]["created_at"] == "2026-11-20T10:07:00+00:00"
    assert [p for t, p in published if t == "log.stored"][0]["id"] == log.id
    assert published[-1][1] == {"transactions": 3, "activities": 2, "logs": 1}


def test_same_batch_twice_changes_nothing(app, client, published):
    body = {"transactions": [tx(1), tx(2, status="pending")]}
    assert client.post(URL, json=body, headers=KEY).status_code == 202
    before = rollup(app)
    again = client.post(URL, json=body, headers=KEY)
    assert again.status_code == 202 and again.json["changed"] == 0
    assert rollup(app) == before and counts(app)[0] == 2
    assert [t for t, _ in published].count("transaction.stored") == 2


def test_status_change_moves_between_counts_and_revenue(app, client):
    client.post(URL, json={"transactions": [tx(1, status="pending")]}, headers=KEY)
    assert rollup(app) == {"completed": 0, "pending": 1, "failed": 0, "refunded": 0, "revenue_cents": 0}
    client.post(URL, json={"transactions": [tx(1, status="completed")]}, headers=KEY)
    assert rollup(app) == {"completed": 1, "pending": 0, "failed": 0, "refunded": 0, "revenue_cents": 1001}
    client.post(URL, json={"transactions": [tx(1, status="refunded")]}, headers=KEY)
    assert rollup(app) == {"completed": 0, "pending": 0, "failed": 0, "refunded": 1, "revenue_cents": 0}


def test_no_key_configured_answers_503(make_app):
    app = make_app(INGEST_API_KEY=None)
    resp = app.test_client().post(URL, json={"transactions": [tx(1)]}, headers=KEY)
    assert resp.status_code == 503 and resp.json["error"]["code"] == "not_configured"
    assert counts(app) == (0, 0, 0)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key"},
                                     {"Authorization": "Basic dGVzdC1pbmdlc3Qta2V5"},
                                     bearer(INGEST_KEY + "-but-longer")])
def test_missing_or_wrong_key_answers_401_and_is_audited(app, client, headers):
    resp = client.post(URL, json={"transactions": [tx(1)]}, headers=headers)
    assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert counts(app) == (0, 0, 0)
    with database.session_scope(app) as s:
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "ingest.bad_key")).one()
        assert entry.outcome == "failure"


def test_body_too_large_answers_413_json(make_app):
    app = make_app(MAX_CONTENT_LENGTH=10_000)
    body = {"logs": [{"service": "web", "level": "INFO", "message": "x" * 5000} for _ in range(3)]}
    resp = app.test_client().post(URL, json=body, headers=KEY)
    assert resp.status_code == 413 and resp.json["error"]["code"] == "payload_too_large"
    assert counts(app) == (0, 0, 0)


def test_more_than_1000_items_answers_413(app, client):
    body = {"transactions": [tx(i) for i in range(600)],
            "activities": [{"user_id": "u", "action": "view"}] * 401}
    resp = client.post(URL, json=body, headers=KEY)
    assert resp.status_code == 413 and resp.json["error"]["code"] == "too_many_items"
    assert counts(app) == (0, 0, 0)
    ok = client.post(URL, json={"transactions": [tx(i) for i in range(600)],
                                "activities": [{"user_id": "u", "action": "view"}] * 400}, headers=KEY)
    assert ok.status_code == 202 and counts(app) == (600, 400, 0)


@pytest.mark.parametrize("kind, bad, field", [
    ("transactions", tx(9, amount_cents="12.50"), "amount_cents"),
    ("transactions", tx(9, amount_cents=-1), "amount_cents"),
    ("transactions", tx(9, amount_cents=True), "amount_cents"),
    ("transactions", tx(9, amount_cents=10.5), "amount_cents"),
    ("transactions", tx(9, currency="US"), "currency"),
    ("transactions", tx(9, currency="U$D"), "currency"),
    ("transactions", tx(9, status="paid"), "status"),
    ("transactions", tx(9, created_at="yesterday"), "created_at"),
    ("transactions", tx(9, created_at="2099-01-01T00:00:00Z"), "created_at"),
    ("transactions", tx(9, updated_at="2026-11-20T10:00:00Z"), "updated_at"),
    ("transactions", tx(9, id="x" * 65), "id"),
    ("transactions", tx(9, id="has space"), "id"),
    ("transactions", tx(9, customer_id=None), "customer_id"),
    ("transactions", tx(9, channel="Web Shop!"), "channel"),
    ("activities", {"user_id": "u"}, "action"),
    ("activities", {"user_id": "u", "action": "a", "detail": "d" * 501}, "detail"),
    ("logs", {"service": "web", "level": "LOUD", "message": "m"}, "level"),
    ("logs", {"service": "web", "level": "INFO", "message": ""}, "message"),
])
def test_one_bad_item_refuses_the_whole_batch(app, client, published, kind, bad, field):
    good = {"transactions": [tx(1), tx(2)], "activities": [{"user_id": "u", "action": "login"}],
            "logs": [{"service": "web", "level": "INFO", "message": "ok"}]}
    good[kind] = good[kind] + [bad]
    index = len(good[kind]) - 1
    resp = client.post(URL, json=good, headers=KEY)
    assert resp.status_code == 400
    err = resp.json["error"]
    assert (err["code"], err["kind"], err["index"], err["field"]) == ("invalid_item", kind, index, field)
    assert f"{kind}[{index}]" in err["message"]
    assert counts(app) == (0, 0, 0) and rollup(app) is None and published == []


@pytest.mark.parametrize("data, code", [
    ("not json", "invalid_json"), ("[1, 2]", "invalid_body"),
    ('{"transaction": []}', "invalid_body"), ('{"logs": {"a": 1}}', "invalid_body"),
])
def test_malformed_bodies_answer_400(app, client, data, code):
    resp = client.post(URL, data=data, headers={**KEY, "Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json["error"]["code"] == code


def test_rate_limited_per_key(make_app):
    app = make_app(INGEST_RATE_LIMIT="3 per minute")
    c = app.test_client()
    # callers with a wrong key are counted apart, so they cannot use up the real key's budget
    wrong = [c.post(URL, json={}, headers={"Authorization": "Bearer guess"}).status_code for _ in range(4)]
    assert wrong == [401, 401, 401, 429]
    codes = [c.post(URL, json={"logs": []}, headers=KEY).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]
    limited = c.post(URL, json={"logs": []}, headers=KEY)
    assert limited.json["error"]["code"] == "rate_limited" and int(limited.headers["Retry-After"]) > 0


def test_get_is_not_allowed(client):
    assert client.get(URL, headers=KEY).status_code == 405


def test_a_failure_mid_batch_stores_nothing_and_answers_503(app, client, monkeypatch):
    """The rows written before the failure are rolled back with it: one batch, one transaction."""
    from sqlalchemy.exc import OperationalError

    def refuse(_session, _deltas):
        raise OperationalError("INSERT INTO revenue_rollups", {}, Exception("disk I/O error"))

    monkeypatch.setattr(rollups, "apply", refuse)
    body = {"activities": [{"user_id": "u", "action": "login"}], "transactions": [tx(1), tx(2)]}
    resp = client.post(URL, json=body, headers=KEY)
    assert resp.status_code == 503 and resp.json["error"]["code"] == "database_unavailable"
    assert int(resp.headers["Retry-After"]) >= 5  # the limiter may raise it to its own window
    assert counts(app) == (0, 0, 0)
