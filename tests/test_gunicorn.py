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
from tests.conftest import ADMIN
from tests.live_client import LiveClient, login
from tests.servers import ROOT, free_port

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
    args = [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "20", "-b", f"127.0.0.1:{port}",
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
def test_gunicorn_threads_serve_pages_and_a_websocket(gunicorn_server):
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
