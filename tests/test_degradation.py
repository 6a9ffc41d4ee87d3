"""The database goes away during a test: stale answers from the cache, 503 without one, recovery."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

import database
from services import cache_manager, circuit_breaker

from tests.conftest import ADMIN
from tests.test_analytics import ingest_all, tx
from tests.test_cache_manager import FakeClock

REVENUE = "/admin/api/analytics/revenue"
RANGE = {"period": "daily", "tz": "UTC", "start": "2026-03-01T00:00:00Z",
         "end": "2026-03-04T00:00:00Z"}


class DeadDatabase:
    """Points the app at a database that refuses every connection (a closed port, or a
    SQLite file in a folder that does not exist), then puts the real one back."""

    def __init__(self, app):
        self.state = database.state(app)
        self.real = (self.state.engine, self.state.session_factory)
        if self.real[0].dialect.name == "postgresql":
            url = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"
        else:
            url = "sqlite:////nonexistent-panel-dir/panel.db"
        self.engine = create_engine(url)

    def __enter__(self):
        self.state.engine = self.engine
        self.state.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        return self

    def __exit__(self, *exc):
        self.state.engine, self.state.session_factory = self.real
        self.engine.dispose()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def outage_app(make_app, clock):
    app = make_app(CACHE_TIMER=clock, DB_BREAKER_FAIL_MAX=2, DB_BREAKER_RESET_TIMEOUT=0.5)
    ingest_all(app, [tx("m1", "2026-03-01T10:00:00Z", 1200), tx("m2", "2026-03-02T10:00:00Z", 800)])
    return app


def test_outage_serves_stale_then_503_then_recovers(outage_app, clock):
    admin = outage_app.test_client()
    assert admin.login(*ADMIN).status_code == 302

    fresh = admin.get(REVENUE, query_string=RANGE).get_json()
    assert fresh["stale"] is False and fresh["summary"]["total_cents"] == 2000
    clock.now += 10_000  # the cached entry has expired: the next read needs the database

    with DeadDatabase(outage_app):
        resp = admin.get(REVENUE, query_string=RANGE)
        assert resp.status_code == 200
        body = resp.get_json()
        assert body["stale"] is True and body["as_of"]
        assert body["summary"]["total_cents"] == 2000
        assert [b["revenue_cents"] for b in body["buckets"]] == [1200, 800, 0]

        # Nothing cached for another range: a fast, clear 503.
        other = admin.get(REVENUE, query_string={**RANGE, "start": "2026-02-01T00:00:00Z"})
        assert other.status_code == 503
        assert other.get_json()["error"]["code"] == "database_unavailable"
        assert other.headers["Retry-After"]

        with outage_app.app_context():
            assert circuit_breaker.state()["state"] == "open"
        health = admin.get("/admin/api/health")
        assert health.status_code == 503
        report = health.get_json()
        assert report["status"] == "unhealthy"
        assert report["checks"]["database"]["status"] == "unhealthy"
        assert report["checks"]["database"]["breaker"]["state"] == "open"
        assert any(r.startswith("database:") for r in report["reasons"])

        # While open, the breaker answers without touching the database at all.
        with outage_app.app_context():
            calls = []
            with pytest.raises(Exception) as info:
                circuit_breaker.call(lambda: calls.append(1))
            assert type(info.value).__name__ == "CircuitBreakerError" and calls == []

    time.sleep(0.6)  # past DB_BREAKER_RESET_TIMEOUT: the next read is the trial
    ingest_all(outage_app, [tx("m3", "2026-03-03T10:00:00Z", 500)])
    back = admin.get(REVENUE, query_string=RANGE).get_json()
    assert back["stale"] is False and back["summary"]["total_cents"] == 2500
    with outage_app.app_context():
        assert circuit_breaker.state()["state"] == "closed"
    health = admin.get("/admin/api/health").get_json()
    assert health["checks"]["database"]["status"] == "healthy"


def test_no_login_is_accepted_from_memory_when_never_verified(outage_app):
    stranger = outage_app.test_client()
    with DeadDatabase(outage_app):
        assert stranger.get(REVENUE, query_string=RANGE).status_code == 401


def test_a_logged_out_session_is_not_honoured_during_an_outage(outage_app):
    admin = outage_app.test_client()
    assert admin.login(*ADMIN).status_code == 302
    admin.fetch_csrf("/admin/dashboard")
    old_cookie = admin.get_cookie("admin_session").value
    assert admin.api("POST", "/admin/logout").status_code in (302, 303, 200)
    replay = outage_app.test_client()
    replay.set_cookie("admin_session", old_cookie)
    with DeadDatabase(outage_app):
        assert replay.get(REVENUE, query_string=RANGE).status_code == 401


def test_cache_helpers_are_per_app(outage_app, make_app):
    other = make_app()
    with outage_app.app_context():
        cache_manager.set("analytics", "k", 1)
    with other.app_context():
        assert cache_manager.get("analytics", "k") is None


def test_moving_windows_find_their_latest_answer_in_an_outage(outage_app, clock, monkeypatch):
    admin = outage_app.test_client()
    assert admin.login(*ADMIN).status_code == 302
    ingest_all(outage_app, activities=[{"user_id": "u1", "action": "view"},
                                       {"user_id": "u2", "action": "view"}])
    fresh = admin.get("/admin/api/user-activity").get_json()
    assert fresh["active_users"] == 2 and fresh["stale"] is False

    # Minutes later the window's cache key has moved on, and the database is gone.
    later = database.utcnow() + timedelta(minutes=3)
    monkeypatch.setattr(database, "utcnow", lambda: later)
    clock.now += 10_000
    with DeadDatabase(outage_app):
        body = admin.get("/admin/api/user-activity").get_json()
        assert body["stale"] is True and body["active_users"] == 2
        assert body["until"] == fresh["until"]  # it says which window it describes
