"""A real panel (``python app.py``) on PostgreSQL loses its database for a while, then gets it back.

The panel reaches PostgreSQL through a TCP proxy the test cuts and restores: for the panel
that is the database going away (open connections broken, new ones refused) and coming
back. What it must do meanwhile: answer the polled reads stale or 503 with Retry-After,
never 500; tell a person logging in that the database is unavailable (503); keep its own
log quiet (no traceback per failure); and once the database is back, answer fresh again,
let people log in, store what it logs, and say once how many of its records it dropped.
"""
from __future__ import annotations

import os
import re
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from services.accounts import users
from tests.conftest import PG_DEFAULT
from tests.helpers import ADMIN
from tests.live_client import login
from tests.servers import start_server
from tests.tcp_proxy import TcpProxy

OUTAGE_SECONDS = 10
INGEST_KEY = "outage-ingest-key"
VIEWERS = 6
# What the panel logs per outage, at most: a few lines, none of them a traceback. Before the
# fix a 10 s outage wrote ~12,000 lines (900 KB), a traceback per failure.
MAX_OUTAGE_LINES = 15
MAX_OUTAGE_BYTES = 4000


@pytest.fixture
def pg_schema(pg_url):
    """A schema of this test's own in the test PostgreSQL (skipped or failed as ``pg_url`` is)."""
    base = make_url(os.environ.get("TEST_DATABASE_URL", PG_DEFAULT))
    schema = f"outage_{uuid.uuid4().hex[:10]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield base, schema
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def panel(tmp_path, pg_schema):
    """The panel behind a cuttable proxy: (server, proxy, the database's own URL)."""
    base, schema = pg_schema
    proxy = TcpProxy((base.host or "127.0.0.1", base.port or 5432)).start()
    url = base.set(host="127.0.0.1", port=proxy.port, query={
        **base.query, "connect_timeout": "2", "options": f"-csearch_path={schema}"})
    server = start_server(tmp_path, env={
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "ADMIN_USERNAME": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1], "INGEST_API_KEY": INGEST_KEY,
        "LOG_CAPTURE": "true", "LOG_QUEUE_SIZE": "2", "LOG_RETRY_MAX": "2",
        "DB_BREAKER_RESET_TIMEOUT": "2", "LIVE_UPDATE_INTERVAL": "1", "SAMPLE_INTERVAL": "1"})
    try:
        yield server, proxy, base.set(query={**base.query, "options": f"-csearch_path={schema}"})
    finally:
        server.stop()
        proxy.cut()


def _login_attempt(base: str, password: str) -> requests.Response:
    http = requests.Session()
    page = http.get(f"{base}/admin/login", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return http.post(f"{base}/admin/login", data={"username": ADMIN[0], "password": password,
                                                  "csrf_token": token},
                     allow_redirects=False, timeout=10)


def _degraded_ok(resp: requests.Response, what: str) -> None:
    """Stale (with as_of) or 503 database_unavailable with Retry-After; never anything else."""
    if resp.status_code == 200:
        body = resp.json()
        assert body["stale"] is True and body["as_of"], (what, body)
    else:
        assert resp.status_code == 503, (what, resp.status_code, resp.text[:300])
        assert resp.json()["error"]["code"] == "database_unavailable", what
        assert int(resp.headers["Retry-After"]) >= 1, what


def _panel_lines(text_: str) -> list[str]:
    # One access line per request is the same with or without an outage; the rest is the panel's.
    return [line for line in text_.splitlines() if line.strip() and " INFO werkzeug: " not in line]


def _logs(http, base, **params):
    resp = http.get(f"{base}/admin/api/logs", params=params, timeout=10)
    assert resp.status_code == 200, resp.text[:300]
    return resp.json()


def _until(predicate, timeout: float, step: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def _create_viewers(db) -> list[str]:
    engine = create_engine(db)
    try:
        with engine.begin() as conn, Session(conn) as session:
            names = [f"viewer{i}" for i in range(VIEWERS)]
            for name in names:
                users.create_user(session, name, "viewer-password-1", "viewer", "pbkdf2:sha256:1000")
            session.commit()
    finally:
        engine.dispose()
    return names


def test_postgresql_outage_degrades_quietly_and_recovers(panel):
    server, proxy, panel_db = panel
    base = server.url
    http, csrf = login(base, *ADMIN)
    # Each signed-in person's first request in an outage is logged once (a minute): more
    # records than the writer may hold (LOG_QUEUE_SIZE=2), so some must be dropped and counted.
    viewers = [login(base, name, "viewer-password-1")[0] for name in _create_viewers(panel_db)]
    polled = ["/admin/api/logs", "/admin/api/alerts/count", "/admin/api/performance",
              "/admin/api/metrics/system"]
    for path in polled:  # the pages' first answers, while the database is up
        assert http.get(f"{base}{path}", timeout=10).status_code == 200, path
    before = _logs(http, base)
    assert before["stale"] is False and before["handler"]["state"] == "storing"
    dropped_before = before["handler"]["dropped"]

    log_offset = len(server.log())
    proxy.cut()
    cut_at = time.monotonic()
    for viewer in viewers:
        _degraded_ok(viewer.get(f"{base}/admin/api/logs", timeout=10), "a viewer's logs")
    while time.monotonic() - cut_at < OUTAGE_SECONDS:
        for path in polled:
            _degraded_ok(http.get(f"{base}{path}", timeout=10), path)
        ingest = http.post(f"{base}/api/v1/events", json={"logs": [
            {"service": "billing", "level": "error", "message": "card declined"}]},
            headers={"Authorization": f"Bearer {INGEST_KEY}"}, timeout=10)
        _degraded_ok(ingest, "ingest")
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 503
        time.sleep(0.5)
    for password in (ADMIN[1], "not-the-password"):
        attempt = _login_attempt(base, password)
        assert attempt.status_code == 503, attempt.status_code
        assert int(attempt.headers["Retry-After"]) >= 1
        assert "The database is unavailable right now" in attempt.text
    waiting = http.get(f"{base}/admin/api/logs", timeout=10).json()
    assert waiting["stale"] is True and waiting["handler"]["state"] == "waiting_for_database"
    health = http.get(f"{base}/admin/api/health", timeout=10)
    assert health.status_code == 503
    assert health.json()["checks"]["log_capture"]["status"] == "degraded"

    outage_log = server.log()[log_offset:]
    lines = _panel_lines(outage_log)
    assert "Traceback" not in outage_log, outage_log[:3000]
    assert len(lines) <= MAX_OUTAGE_LINES, "\n".join(lines)
    assert sum(len(line) + 1 for line in lines) <= MAX_OUTAGE_BYTES, "\n".join(lines)
    assert sum("log capture: cannot store records" in line for line in lines) == 1

    proxy.restore()
    back_at = time.monotonic()
    fresh = _until(lambda: (lambda b: b if b.get("stale") is False else None)(
        http.get(f"{base}/admin/api/logs", timeout=10).json()), timeout=20)
    assert fresh, "GET /admin/api/logs did not answer fresh within 20 s of the database's return"
    recovered_in = time.monotonic() - back_at
    session, _ = login(base, *ADMIN)  # asserts the 302
    assert session.get(f"{base}/admin/api/alerts/count", timeout=10).status_code == 200

    said = _until(lambda: re.findall(r"log capture: storing again after \d+ s without the "
                                     r"database; (\d+) records kept, (\d+) dropped", server.log()),
                  timeout=15)
    assert said and len(said) == 1, server.log()[log_offset:]
    kept, dropped = map(int, said[0])
    stats = _until(lambda: (lambda h: h if h["queued"] == 0 else None)(_logs(http, base)["handler"]),
                   timeout=10)
    assert stats and stats["state"] == "storing"
    assert http.get(f"{base}/admin/api/health", timeout=10).json()["checks"]["log_capture"][
        "status"] == "healthy"
    # The line counts what the outage cost; the counter may hold more: with a queue of two,
    # a record logged while the writer still drains the outage's backlog can be dropped after
    # the line was written. Never fewer.
    assert dropped >= 1 and stats["dropped"] - dropped_before >= dropped
    # What it logged during the outage and kept is stored now.
    during = [e for e in _logs(http, base, service="admin-panel", limit=500)["logs"]
              if e["logger"] != "services.logs.writer" and "unavailable" in e["message"]]
    assert kept >= 1 and during, "nothing logged during the outage was stored"
    gap = _logs(http, base, q="were dropped while the database was unavailable")["logs"]
    assert len(gap) == (1 if dropped else 0)
    if dropped:
        assert gap[0]["message"].startswith(f"{dropped} log records of this process were dropped")
    # Other services' logs are taken again, and the panel's own records after the recovery are
    # stored: the last one it writes as it stops.
    sent = http.post(f"{base}/api/v1/events", json={"logs": [
        {"service": "billing", "level": "error", "message": "card declined after the outage"}]},
        headers={"Authorization": f"Bearer {INGEST_KEY}"}, timeout=10)
    assert sent.status_code == 202
    assert _logs(http, base, q="card declined after the outage")["logs"]
    time.sleep(1)
    server.stop()
    assert len(re.findall("log capture: storing again", server.log())) == 1  # said once
    engine = create_engine(panel_db)
    try:
        with engine.connect() as conn:
            stopped = conn.execute(text("SELECT count(*) FROM log_entries WHERE message = "
                                        "'live scheduler stopped'")).scalar()
    finally:
        engine.dispose()
    assert stopped == 1, "the record logged after the recovery was not stored"
    print(f"outage {OUTAGE_SECONDS} s: {len(lines)} panel log lines; logs fresh "
          f"{recovered_in:.1f} s after the database returned; kept {kept}, dropped {dropped}")
