"""The documented production command really serves pages, the ingest API and a WebSocket."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

import database
from tests.conftest import ADMIN
from tests.live_client import LiveClient, login
from tests.servers import ROOT, free_port

pytestmark = [pytest.mark.timeout(120)]


@pytest.fixture
def gunicorn_server(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECRET_KEY", "DATABASE_URL", "REDIS_", "ADMIN_", "INGEST_"))}
    env.update({"SECRET_KEY": "gunicorn-test-secret", "DATABASE_URL": f"sqlite:///{tmp_path}/g.db",
                "ADMIN_USERNAME": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1], "INGEST_API_KEY": "g-key",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "LIVE_UPDATE_INTERVAL": "0.5",
                "SAMPLE_INTERVAL": "0.5"})
    # The command of docs/DEPLOY.md, on a free port.
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
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


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
