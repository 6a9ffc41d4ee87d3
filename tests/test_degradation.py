"""The database goes away during a test: stale answers from the cache, 503 without one, recovery."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from werkzeug.routing import IntegerConverter

import database
from services.infra import cache as cache_manager
from services.infra import breaker as circuit_breaker

from tests.helpers import ADMIN, INGEST
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


# -- every route, while the database is down -------------------------------------------------------

# Reads that pages poll: after one good answer, an outage serves it again, marked stale.
POLLED = ["/admin/api/logs", "/admin/api/audit", "/admin/api/alerts", "/admin/api/alerts/count",
          "/admin/api/alerts/rules", "/admin/api/performance", "/admin/api/metrics/system",
          "/admin/api/metrics/live"]


def _routes(app):
    """Every (method, url) of the app, with 1 for each integer and "x" for each other argument."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        args = {name: 1 if isinstance(conv, IntegerConverter) else "x"
                for name, conv in rule._converters.items()}
        url = rule.build(args, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


def test_no_route_answers_500_while_the_database_is_down(outage_app, clock):
    admin = outage_app.test_client()
    assert admin.login(*ADMIN).status_code == 302
    admin.fetch_csrf("/admin/dashboard")
    for url in POLLED:  # one good answer each, while the database is up
        assert admin.get(url).status_code == 200, url
    clock.now += 10_000
    routes = sorted(set(_routes(outage_app)))
    assert len(routes) > 40  # the sweep really covers the app
    with DeadDatabase(outage_app):
        for url in POLLED:
            resp = admin.get(url)
            body = resp.get_json()
            assert resp.status_code == 200 and body["stale"] is True and body["as_of"], url
        answered = {}
        for method, url in routes:
            resp = admin.open(url, method=method, json={}, headers={
                "X-CSRFToken": admin.csrf, **INGEST})
            answered[(method, url)] = resp.status_code
            assert resp.status_code < 500 or resp.status_code == 503, (method, url, resp.status_code)
            if url == "/admin/api/health":  # its 503 is the report itself, saying why
                assert resp.get_json()["checks"]["database"]["status"] == "unhealthy"
            elif resp.status_code == 503 and url.startswith("/admin"):
                assert int(resp.headers["Retry-After"]) >= 1, (method, url)
                if url.startswith("/admin/api/"):
                    assert resp.get_json()["error"]["code"] == "database_unavailable", (method, url)
                else:
                    assert "database is unavailable" in resp.get_data(as_text=True), (method, url)
    # The sweep met the outage, not only refusals: writes and uncached reads said 503.
    assert answered[("DELETE", "/admin/api/alerts/rules/1")] == 503
    assert answered[("GET", "/admin/api/alerts/1")] == 503
    assert answered[("GET", "/healthz")] == 503


def test_login_while_the_database_is_down_says_so(outage_app):
    person = outage_app.test_client()
    token = person.fetch_csrf()
    with DeadDatabase(outage_app):
        # Right or wrong, the password cannot be checked: more tries than the account limit
        # allows (5), and none of them is charged to it.
        for password in [ADMIN[1], "wrong-password"] * 3:
            resp = person.post("/admin/login", data={"username": ADMIN[0], "password": password,
                                                     "csrf_token": token})
            html = resp.get_data(as_text=True)
            assert resp.status_code == 503
            assert int(resp.headers["Retry-After"]) >= 1
            assert "The database is unavailable right now" in html
            assert 'name="password"' in html  # the form, ready for the next try
    assert person.login(*ADMIN).status_code == 302
    assert person.get("/admin/api/alerts/count").status_code == 200


def test_a_refused_query_is_no_outage(outage_app):
    """An error about what was asked neither opens the breaker nor turns into a stale answer
    or a 503 (which would make a client retry what can never succeed)."""
    from sqlalchemy.exc import DataError

    def refused():
        raise DataError("SELECT", {}, Exception("integer out of range"))

    with outage_app.test_request_context():
        circuit_breaker.cached_read("analytics", "refused", lambda: {"n": 1})
        for attempt in range(5):
            with pytest.raises(DataError):
                circuit_breaker.cached_read("analytics", ("refused", attempt), refused)
            with pytest.raises(DataError):
                circuit_breaker.fresh_read(("refused", attempt), refused)
        assert circuit_breaker.state()["state"] == "closed"


def test_guarded_reads_run_side_by_side(outage_app):
    """A slow read must not hold up the others (pybreaker alone runs one call at a time)."""
    import threading

    slow_started, release = threading.Event(), threading.Event()

    def slow():
        slow_started.set()
        release.wait(5)
        return {}

    breaker = circuit_breaker.breaker(outage_app)
    worker = threading.Thread(target=breaker.call, args=(slow,))
    worker.start()
    assert slow_started.wait(5)
    done = threading.Event()
    other = threading.Thread(target=lambda: (breaker.call(dict), done.set()))
    other.start()
    try:
        assert done.wait(2), "a second read waited for the first"
    finally:
        release.set()
        worker.join(5)
        other.join(5)


def test_a_socket_event_in_an_outage_is_told_the_database_is_unavailable(outage_app, clock):
    from extensions import socketio

    admin = outage_app.test_client()
    assert admin.login(*ADMIN).status_code == 302
    sock = socketio.test_client(outage_app, flask_test_client=admin)
    try:
        assert sock.is_connected()
        clock.now += 10_000  # no cached snapshot left: the answer needs the database
        with DeadDatabase(outage_app):
            sock.get_received()
            sock.emit("request_live_update")
            errors = [e["args"][0] for e in sock.get_received() if e["name"] == "error"]
        assert errors and errors[0]["code"] == "database_unavailable", errors
    finally:
        sock.disconnect()
