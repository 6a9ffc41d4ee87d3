"""Two real server processes on one PostgreSQL database and one Redis, as deployed.

The Redis is a private ``redis-server`` started here on a free port, so stopping it to test
degradation never disturbs anything else using the shared one. Everything is bounded in time.
Runs wherever PostgreSQL and ``redis-server`` exist; skipped without them, failed in CI.
"""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import time
import uuid

import pytest
import redis
import requests
import socketio
from sqlalchemy import select, text

import database
from services.monitor import SystemMetric
from tests.conftest import unreachable
from tests.helpers import ADMIN, transaction
from tests.live_client import LiveClient, login
from tests.servers import free_port, start_server

pytestmark = [pytest.mark.timeout(240)]
INGEST_KEY = "multi-process-ingest-key"
RATE = 6


class RedisServer:
    """A throwaway redis-server on ``port``, without persistence."""

    def __init__(self, port: int, workdir):
        self.port, self.workdir, self.proc = port, workdir, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                     cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        until(lambda: self.ping(), 10, "redis-server did not start")

    def ping(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def until(check, timeout: float, message: str, interval: float = 0.2):
    """Poll ``check`` until it returns something truthy; fail with ``message`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"{message} (after {timeout}s)")


@pytest.fixture(scope="module")
def cluster(pg_url, tmp_path_factory):
    """Redis, then process A, then process B (in turn, so start-up work never races)."""
    if not (shutil.which("redis-server") or os.path.exists("/usr/bin/redis-server")):
        unreachable("redis-server", "binary not found")
    url, engine = pg_url
    names = ", ".join(f'"{t.name}"' for t in database.Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    tmp = tmp_path_factory.mktemp("multiprocess")
    rds = RedisServer(free_port(), tmp)
    rds.start()
    env = {"DATABASE_URL": url, "REDIS_URL": rds.url, "REDIS_NAMESPACE": f"mp-{uuid.uuid4().hex[:8]}",
           "SCHEDULER_ENABLED": "true", "LIVE_UPDATE_INTERVAL": "0.5", "SAMPLE_INTERVAL": "0.5",
           "INGEST_API_KEY": INGEST_KEY, "INGEST_RATE_LIMIT": f"{RATE} per hour",
           "ADMIN_USERNAME": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1]}
    servers = []
    try:
        for name in ("a", "b"):
            workdir = tmp / name
            workdir.mkdir()
            servers.append(start_server(workdir, env=env))
        yield {"a": servers[0], "b": servers[1], "redis": rds, "engine": engine}
    finally:
        for server in servers:
            server.stop()
        rds.stop()


def ingest(server, transactions):
    return requests.post(f"{server.url}/api/v1/events", json={"transactions": transactions},
                         headers={"Authorization": f"Bearer {INGEST_KEY}"}, timeout=10)


def tx(tx_id: str, cents: int = 1234) -> dict:
    return transaction(tx_id, cents, currency="EUR", customer_id="cust-1")


def health(server, http) -> dict:
    return http.get(f"{server.url}/admin/api/health", timeout=10).json()


def test_ingest_on_a_reaches_a_socket_on_b(cluster):
    http_b, _ = login(cluster["b"].url, *ADMIN)
    client = LiveClient(cluster["b"].url, http_b)
    try:
        client.wait_for(lambda p: True, 15)  # the room is joined and updates flow
        resp = ingest(cluster["a"], [tx("mp-first", 4321)])
        assert resp.status_code == 202, resp.text
        seen = client.wait_for(lambda p: any(t.get("id") == "mp-first"
                                             for t in p["transactions"]["recent"]), 15)
        recent = next(t for t in seen["transactions"]["recent"] if t.get("id") == "mp-first")
        assert recent["amount_cents"] == 4321
    finally:
        client.close()


def test_a_log_stored_on_a_reaches_a_live_tail_on_b(cluster):
    http_b, _ = login(cluster["b"].url, *ADMIN)
    entries, status = queue.Queue(), queue.Queue()
    sio = socketio.Client(reconnection=False)
    sio.on("log_entry", entries.put)
    sio.on("logs_status", status.put)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http_b.cookies)
    sio.connect(cluster["b"].url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
    try:
        sio.emit("logs_subscribe", {"level": "error", "service": "billing"})
        assert status.get(timeout=10)["subscribed"] is True
        resp = requests.post(f"{cluster['a'].url}/api/v1/events", timeout=10,
                             headers={"Authorization": f"Bearer {INGEST_KEY}"}, json={"logs": [
                                 {"service": "billing", "level": "error", "message": "mp processor down"},
                                 {"service": "billing", "level": "info", "message": "mp below the level"},
                                 {"service": "web", "level": "error", "message": "mp other service"}]})
        assert resp.status_code == 202, resp.text
        got = entries.get(timeout=10)
        assert (got["service"], got["level"], got["message"]) == ("billing", "ERROR", "mp processor down")
        time.sleep(1.0)  # several relay intervals: the entries that do not match never come
        assert entries.empty(), entries.get_nowait()
    finally:
        sio.disconnect()


def test_the_ingest_rate_limit_holds_across_processes(cluster):
    # Two requests were spent by the previous tests; the rest of the budget is shared by A and B.
    # (An hourly window: a fixed window rolling over during these few seconds is very unlikely.)
    answers = [ingest(cluster[name], [tx(f"mp-rate-{i}")]).status_code
               for i, name in enumerate("baba")]
    assert answers == [202] * (RATE - 2)
    assert ingest(cluster["b"], [tx("mp-over-b")]).status_code == 429
    assert ingest(cluster["a"], [tx("mp-over-a")]).status_code == 429


def test_exactly_one_process_samples(cluster):
    engine = cluster["engine"]
    pids = {cluster["a"].proc.pid, cluster["b"].proc.pid}
    time.sleep(2.0)  # several sample intervals with both processes up
    with engine.connect() as conn:
        hosts = set(conn.execute(select(SystemMetric.host).distinct()).scalars())
    assert len(hosts) == 1, hosts
    assert int(next(iter(hosts)).rsplit(":", 1)[1]) in pids


def test_a_cache_clear_on_a_clears_b(cluster):
    http_a, csrf_a = login(cluster["a"].url, *ADMIN)
    http_b, _ = login(cluster["b"].url, *ADMIN)
    b = cluster["b"].url
    assert http_b.get(f"{b}/admin/api/analytics/revenue?period=daily", timeout=10).status_code == 200
    size = lambda: http_b.get(f"{b}/admin/api/cache/stats", timeout=10).json()["namespaces"]["analytics"]["size"]  # noqa: E731
    assert size() >= 1
    resp = http_a.post(f"{cluster['a'].url}/admin/api/cache/clear", json={"namespace": "analytics"},
                       headers={"X-CSRFToken": csrf_a}, timeout=10)
    assert resp.status_code == 200, resp.text
    until(lambda: size() == 0, 10, "B's analytics cache still holds entries after a clear on A")


def test_redis_down_degrades_and_recovers(cluster):
    a, b, rds = cluster["a"], cluster["b"], cluster["redis"]
    sessions = {name: login(cluster[name].url, *ADMIN)[0] for name in ("a", "b")}
    for name in ("a", "b"):
        assert health(cluster[name], sessions[name])["checks"]["redis"]["status"] == "healthy"

    rds.stop()
    for name in ("a", "b"):
        server, http = cluster[name], sessions[name]
        report = until(lambda: (r := health(server, http))["status"] != "healthy" and r, 15,
                       f"health of {name} did not notice Redis going down")
        assert report["checks"]["redis"]["status"] == "degraded"
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
        assert http.get(f"{server.url}/admin/dashboard", timeout=10).status_code == 200
        assert http.get(f"{server.url}/admin/api/analytics/revenue", timeout=10).status_code == 200
        # Writes still land in the database; the rate limit falls back to this process's memory.
        assert ingest(server, [tx(f"mp-down-{name}")]).status_code in (202, 429)
    assert a.proc.poll() is None and b.proc.poll() is None

    rds.start()
    for name in ("a", "b"):
        server, http = cluster[name], sessions[name]
        until(lambda: health(server, http)["checks"]["redis"]["status"] == "healthy", 20,
              f"health of {name} did not see Redis back")
    # Live updates flow again from the leader through Redis to a client on B.
    client = LiveClient(b.url, sessions["b"])
    try:
        first = client.wait_for(lambda p: True, 20)
        client.wait_for(lambda p: p["seq"] > first["seq"], 10)
    finally:
        client.close()


def test_health_on_a_counts_the_sockets_of_b_and_a_logout_on_a_ends_them(cluster):
    http_b, _ = login(cluster["b"].url, *ADMIN)
    client = LiveClient(cluster["b"].url, http_b)
    errors: queue.Queue = queue.Queue()
    client.sio.on("error", errors.put)
    try:
        client.wait_for(lambda p: True, 15)
        http_a, csrf_a = login(cluster["a"].url, *ADMIN)

        def b_counted():
            check = health(cluster["a"], http_a)["checks"]["sockets"]
            here = check["this_process"]["process"]
            others = [p for p in check["processes"] if p["process"] != here]
            return others and others[0]["connected"] >= 1 and check["total"] >= 1

        until(b_counted, 15, "process A's health never listed B's socket")
        # A logout on A ends every session of that admin, so the socket on B too, told why.
        assert http_a.post(f"{cluster['a'].url}/admin/logout", data={"csrf_token": csrf_a},
                           allow_redirects=False, timeout=10).status_code == 302
        error = errors.get(timeout=15)
        assert error["code"] == "unauthorized" and error["reason"] == "logged_out"
        until(lambda: not client.sio.connected, 15, "the socket on B stayed open")
    finally:
        client.close()
