"""The database, redis, SSRF and redirect sides of checks, on SQLite and PostgreSQL and a real Redis."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis as redis_lib
from sqlalchemy import text

import database
from services.checks import check_once, current_values, service
from services.checks.models import Monitor
from tests.checks_target import Target


@pytest.fixture
def target():
    t = Target()
    yield t
    t.stop()


def _create(app, **body) -> int:
    with database.session_scope(app) as s:
        return service.create(s, body, min_interval=1).id


def _monitor(app, mid) -> Monitor:
    with database.session_scope(app) as s:
        m = s.get(Monitor, mid)
        s.expunge(m)
        return m


def test_database_round_trip_pool_and_connections(make_app):
    app = make_app()
    mid = _create(app, name="db", kind="database")
    engine = database.get_engine(app)
    with engine.connect():  # one connection held elsewhere: the pool shows it in use
        check_once(app, mid)
    m = _monitor(app, mid)
    assert m.state == "up" and m.last_latency_ms > 0
    detail = m.last_detail
    if detail["pool_class"] == "QueuePool":
        assert detail["pool_in_use"] >= 1
        assert detail["pool_usage_percent"] == round(100 * detail["pool_in_use"] / detail["pool_capacity"], 2)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            limit = int(conn.execute(text("SHOW max_connections")).scalar())
        assert detail["max_connections"] == limit
        assert 1 <= detail["connections"] <= limit
        assert detail["connections_percent"] == round(100 * detail["connections"] / limit, 2)
    else:
        assert "connections" not in detail
    with database.session_scope(app) as s:
        [values] = current_values(s)
    assert values["values"]["monitor_up"] == 1
    if engine.dialect.name == "postgresql":
        assert values["values"]["db_connections_percent"] == detail["connections_percent"]


def test_database_connection_limit_turns_down(make_app):
    app = make_app()
    if database.get_engine(app).dialect.name != "postgresql":
        pytest.skip("max_connections exists on PostgreSQL only")
    mid = _create(app, name="db", kind="database", connections_max_percent=0.01, failure_threshold=1)
    check_once(app, mid)
    m = _monitor(app, mid)
    assert m.state == "down" and m.last_error.startswith("connections_percent")


@pytest.mark.sqlite_only
def test_redis_round_trip_and_clients(make_app, redis_url):
    app = make_app()
    mid = _create(app, name="cache", kind="redis", url=redis_url)
    check_once(app, mid)
    m = _monitor(app, mid)
    assert m.state == "up", m.last_error
    client = redis_lib.Redis.from_url(redis_url)
    maxclients = int(client.config_get("maxclients")["maxclients"])
    assert m.last_detail["maxclients"] == maxclients
    assert 1 <= m.last_detail["connected_clients"] <= client.info("clients")["connected_clients"] + 5
    down = _create(app, name="nowhere", kind="redis", url="redis://127.0.0.1:1/0", failure_threshold=1,
                   timeout_seconds=1)
    check_once(app, down)
    assert _monitor(app, down).last_error.startswith("redis error")


@pytest.mark.sqlite_only
def test_metadata_addresses_are_refused_even_when_private_is_allowed(make_app):
    app = make_app(MONITOR_ALLOW_PRIVATE=True)
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/"):
        mid = _create(app, name=url, kind="http", url=url, failure_threshold=1)
        check_once(app, mid)
        assert "link-local or metadata" in _monitor(app, mid).last_error


@pytest.mark.sqlite_only
def test_private_addresses_are_refused_by_default(make_app, target):
    app = make_app()
    hits = target.hits
    for kind, extra in (("http", {"url": target.url}), ("tcp", {"host": "127.0.0.1", "port": target.port})):
        mid = _create(app, name=kind, kind=kind, failure_threshold=1, **extra)
        check_once(app, mid)
        assert "MONITOR_ALLOW_PRIVATE" in _monitor(app, mid).last_error
    assert target.hits == hits  # nothing was sent


@pytest.mark.sqlite_only
def test_a_redirect_to_a_metadata_address_is_refused(make_app, target):
    app = make_app(MONITOR_ALLOW_PRIVATE=True)
    target.status, target.headers = 302, {"Location": "http://169.254.169.254/latest/meta-data/"}
    mid = _create(app, name="r", kind="http", url=target.url, failure_threshold=1)
    check_once(app, mid)
    assert "link-local or metadata" in _monitor(app, mid).last_error


@pytest.mark.sqlite_only
def test_a_redirect_is_followed_to_an_allowed_target(make_app, target):
    final = Target()
    try:
        app = make_app(MONITOR_ALLOW_PRIVATE=True)
        target.status, target.headers = 302, {"Location": final.url + "/ok"}
        mid = _create(app, name="r", kind="http", url=target.url, keyword="ok")
        check_once(app, mid)
        assert _monitor(app, mid).state == "up" and final.hits == 1
    finally:
        final.stop()


@pytest.mark.sqlite_only
def test_body_is_read_up_to_the_cap(make_app, target):
    app = make_app(MONITOR_ALLOW_PRIVATE=True, MONITOR_BODY_LIMIT=1000)
    target.body = b"x" * 5000 + b"NEEDLE"
    mid = _create(app, name="big", kind="http", url=target.url, keyword="NEEDLE", failure_threshold=1)
    check_once(app, mid)
    assert _monitor(app, mid).last_error == "keyword 'NEEDLE' not found"


class _LoginRedirect(BaseHTTPRequestHandler):
    """``POST /start`` sets a cookie and redirects to ``/final``, which answers only with it."""

    seen: list[tuple[str, str, str | None, str | None, bytes]] = []

    def _answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        cookie = self.headers.get("Cookie")
        self.seen.append((self.command, self.path, cookie, self.headers.get("X-Token"), body))
        if self.path == "/start":
            self.send_response(302)
            self.send_header("Set-Cookie", "session=abc; Path=/")
            self.send_header("Location", "/final")
            answer = b""
        else:
            self.send_response(200 if cookie == "session=abc" else 401)
            answer = b"welcome" if cookie == "session=abc" else b"log in first"
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _answer

    def log_message(self, *_args):
        pass


@pytest.mark.sqlite_only
def test_a_cookie_set_on_a_redirect_reaches_the_next_hop_and_never_the_next_check(make_app):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LoginRedirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _LoginRedirect.seen = []
    try:
        app = make_app(MONITOR_ALLOW_PRIVATE=True)
        mid = _create(app, name="login", kind="http", method="POST", body="user=a",
                      url=f"http://127.0.0.1:{server.server_address[1]}/start", keyword="welcome",
                      headers={"X-Token": "t1"}, failure_threshold=1)
        check_once(app, mid)
        check_once(app, mid)
        assert _monitor(app, mid).state == "up" and _monitor(app, mid).last_error is None
        # Each check: the configured method, header and body first, without the cookie of
        # the check before; then the redirect as a GET carrying the cookie the first hop set.
        hops = [("POST", "/start", None, "t1"), ("GET", "/final", "session=abc", "t1")]
        assert [hop[:4] for hop in _LoginRedirect.seen] == hops * 2
        assert [hop[4] for hop in _LoginRedirect.seen[::2]] == [b"user=a"] * 2
    finally:
        server.shutdown()
        server.server_close()
