"""The documented production command really serves pages, the ingest API and a WebSocket."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

import pytest
import redis
import requests

import database
from tests.helpers import ADMIN
from tests.live_client import LiveClient, login
from tests.servers import PRODUCTION, ROOT, free_port

pytestmark = [pytest.mark.timeout(120)]


@contextmanager
def gunicorn(tmp_path, **extra_env):
    """The command of docs/DEPLOY.md on a free port; yields (url, process); SIGTERM at the end."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECRET_KEY", "DATABASE_URL", "REDIS_", "ADMIN_", "INGEST_"))}
    env.update({"SECRET_KEY": "gunicorn-test-secret", "DATABASE_URL": f"sqlite:///{tmp_path}/g.db",
                "ADMIN_USERNAME": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1], "INGEST_API_KEY": "g-key",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "LIVE_UPDATE_INTERVAL": "0.5",
                "SAMPLE_INTERVAL": "0.5", **extra_env})
    args = [sys.executable, "-m", "gunicorn", *PRODUCTION, "-b", f"127.0.0.1:{port}",
            "--chdir", str(ROOT), "app:create_app()"]
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            pytest.fail(f"gunicorn did not serve /healthz:\n{(tmp_path / 'gunicorn.log').read_text()}")
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        log.close()


@pytest.fixture
def gunicorn_server(tmp_path):
    with gunicorn(tmp_path) as (url, _proc):
        yield url


@pytest.mark.sqlite_only
def test_the_gevent_worker_serves_pages_and_a_websocket(gunicorn_server):
    http, _ = login(gunicorn_server, *ADMIN)
    page = http.get(f"{gunicorn_server}/admin/dashboard", timeout=10)
    assert page.status_code == 200 and "csrf-token" in page.text
    client = LiveClient(gunicorn_server, http, transports=("websocket",))
    try:
        assert client.sio.transport() == "websocket"
        client.wait_for(lambda p: True, 15)
        resp = requests.post(f"{gunicorn_server}/api/v1/events", timeout=10,
                             headers={"Authorization": "Bearer g-key"},
                             json={"transactions": [{"id": "g-1", "amount_cents": 777, "currency": "EUR",
                                                     "status": "completed", "customer_id": "c",
                                                     "created_at": database.utcnow().isoformat()}]})
        assert resp.status_code == 202, resp.text
        client.wait_for(lambda p: any(t.get("id") == "g-1" for t in p["transactions"]["recent"]), 15)
    finally:
        client.close()


@pytest.mark.sqlite_only
def test_a_stopped_gunicorn_worker_hands_the_scheduler_lock_over_at_once(tmp_path, redis_url):
    namespace = f"gunicorn-{uuid.uuid4().hex[:8]}"
    key = f"{namespace}:live:leader"
    client = redis.Redis.from_url(redis_url)
    with gunicorn(tmp_path, REDIS_URL=redis_url, REDIS_NAMESPACE=namespace) as (url, proc):
        requests.get(f"{url}/admin/login", timeout=10)  # the loop starts with the first request
        deadline = time.monotonic() + 15
        while not client.exists(key) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.exists(key), "the worker never took the scheduler lock"
        assert client.pttl(key) > 5000  # held with a TTL of several seconds
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    # Released on the way out, not left to expire: another process can lead right away.
    assert not client.exists(key)


class SocketCrowd:
    """``count`` logged-in sockets in the admin room, held open by one asyncio loop in a thread."""

    def __init__(self, url: str, cookie: str, count: int):
        import asyncio
        import threading

        self.url, self.cookie, self.count = url, cookie, count
        self.updates = 0
        self.errors: list = []
        self.clients: list = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _open(self):
        import asyncio

        import socketio

        async def one():
            client = socketio.AsyncClient(reconnection=False)
            client.on("live_update", lambda _p: setattr(self, "updates", self.updates + 1))
            client.on("error", self.errors.append)
            await client.connect(self.url, headers={"Cookie": self.cookie, "Origin": self.url},
                                 transports=["websocket"], wait_timeout=30)
            await client.emit("join_admin_room")
            return client

        for start in range(0, self.count, 25):
            self.clients += await asyncio.gather(*(one() for _ in range(min(25, self.count - start))))

    def __enter__(self):
        import asyncio

        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), self.loop).result(timeout=90)
        return self

    def __exit__(self, *exc):
        import asyncio

        async def close():
            await asyncio.gather(*(c.disconnect() for c in self.clients), return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.mark.sqlite_only
@pytest.mark.timeout(240)
def test_http_still_answers_with_more_sockets_open_than_the_old_thread_count(tmp_path):
    """150 open sockets of one admin (the old threaded worker had 100 threads in all)."""
    count = 150
    with gunicorn(tmp_path, SOCKETS_PER_USER=str(count)) as (url, _proc):
        http, _ = login(url, *ADMIN)
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        with SocketCrowd(url, cookie, count) as crowd:
            deadline = time.monotonic() + 30
            while crowd.updates < count and time.monotonic() < deadline:
                time.sleep(0.2)
            assert crowd.updates >= count, f"{crowd.updates} live_update for {count} sockets"
            assert crowd.errors == []
            # Generous timeouts: this asks whether HTTP is served at all, not how fast.
            health = http.get(f"{url}/admin/api/health", timeout=20)
            assert health.status_code in (200, 503), health.text
            assert health.json()["checks"]["sockets"]["this_process"]["connected"] == count
            assert health.json()["checks"]["sockets"]["async_mode"] == "gevent"
            stamp = database.utcnow().isoformat()
            batch = {"transactions": [{"id": f"crowd-{i}", "amount_cents": 100, "currency": "USD",
                                       "status": "completed", "customer_id": f"c{i}",
                                       "created_at": stamp} for i in range(1000)]}
            resp = requests.post(f"{url}/api/v1/events", json=batch, timeout=20,
                                 headers={"Authorization": "Bearer g-key"})
            assert resp.status_code == 202, resp.text
            assert http.get(f"{url}/admin/dashboard", timeout=20).status_code == 200
