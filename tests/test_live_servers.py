"""Real servers (``python app.py``) and real Socket.IO clients: origins, pushes, Redis fan-out."""
from __future__ import annotations

import re
import sqlite3
import threading
import time

import pytest
import requests
import socketio

from tests.servers import start_server
from tests.helpers import ADMIN
from tests import helpers

FAST = {"ADMIN_USERNAME": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1], "LIVE_UPDATE_INTERVAL": "0.4",
        "SAMPLE_INTERVAL": "0.4"}


def login(base_url: str, web: requests.Session | None = None) -> str:
    """Log in through the form; returns the Cookie header of the session."""
    web = web or requests.Session()
    html = web.get(f"{base_url}/admin/login", timeout=5).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    resp = web.post(f"{base_url}/admin/login", data={"username": ADMIN[0], "password": ADMIN[1],
                                                     "csrf_token": token},
                    allow_redirects=False, timeout=5)
    assert resp.status_code == 302, resp.text
    return "; ".join(f"{c.name}={c.value}" for c in web.cookies)


class Listener:
    """A python-socketio client that keeps what it receives."""

    def __init__(self):
        self.client = socketio.Client(reconnection=False)
        self.received: list[tuple[str, object]] = []
        self.lock = threading.Lock()

        @self.client.on("*")
        def _any(event, data=None):
            with self.lock:
                self.received.append((event, data))

    def named(self, event):
        with self.lock:
            return [d for e, d in self.received if e == event]

    def connect(self, url, **headers):
        self.client.connect(url, headers=headers, transports=["polling"], wait_timeout=5)


def wait_for(predicate, timeout=8.0):
    """Servers answer slower than an app in the test process: a longer default wait."""
    return helpers.wait_for(predicate, timeout)


@pytest.fixture
def server(tmp_path):
    srv = start_server(tmp_path, env={**FAST, "REDIS_URL": ""})
    yield srv
    srv.stop()


def test_socket_refused_anonymous_and_from_a_foreign_origin(server):
    cookie = login(server.url)
    anonymous = Listener()
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect(server.url, Origin=server.url)
    foreign = Listener()
    with pytest.raises(socketio.exceptions.ConnectionError):
        foreign.connect(server.url, Cookie=cookie, Origin="http://evil.example")
    same = Listener()
    same.connect(server.url, Cookie=cookie, Origin=server.url)
    try:
        same.client.emit("join_admin_room")
        assert wait_for(lambda: len(same.named("live_update")) >= 3)
        seqs = [s["seq"] for s in same.named("live_update")]
        # The first answers the join (the cached snapshot); pushes after it count up by one.
        assert seqs[2] == seqs[1] + 1
    finally:
        same.client.disconnect()


def _sampling_hosts(db_path):
    with sqlite3.connect(db_path) as conn:
        return {row[0] for row in conn.execute("SELECT DISTINCT host FROM system_metrics")}


def test_two_processes_share_pushes_through_redis_and_only_one_samples(
        tmp_path, redis_url, redis_namespace):
    env = {**FAST, "REDIS_URL": redis_url, "REDIS_NAMESPACE": redis_namespace}
    first = start_server(tmp_path, env=env)
    second = None
    listener = Listener()
    try:
        # The first process holds the lock before the second exists.
        assert wait_for(lambda: len(_sampling_hosts(tmp_path / "server.db")) == 1)
        second = start_server(tmp_path, env=env)
        web = requests.Session()
        cookie = login(second.url, web)
        listener.connect(second.url, Cookie=cookie, Origin=second.url)
        listener.client.emit("join_admin_room")
        assert wait_for(lambda: len(listener.named("live_update")) >= 4)
        seqs = [s["seq"] for s in listener.named("live_update")][1:]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        time.sleep(1.0)  # several more ticks of both processes
        hosts = _sampling_hosts(tmp_path / "server.db")
        assert hosts == {h for h in hosts if h.endswith(f":{first.proc.pid}")} and len(hosts) == 1
        # A logout handled by the first process ends the socket held by the second.
        page = web.get(f"{first.url}/admin/dashboard", timeout=5)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        resp = web.post(f"{first.url}/admin/logout", data={"csrf_token": token},
                        allow_redirects=False, timeout=5)
        assert resp.status_code == 302
        assert wait_for(lambda: not listener.client.connected, timeout=5)
    finally:
        if listener.client.connected:
            listener.client.disconnect()
        for srv in (second, first):
            if srv is not None:
                srv.stop()


def test_the_socket_transport_is_not_timed_as_requests(server):
    """Socket.IO traffic (long polls, a WebSocket open for seconds) never shows up as requests."""
    web = requests.Session()
    cookie = login(server.url, web)
    polling = Listener()
    polling.connect(server.url, Cookie=cookie, Origin=server.url)
    socket = socketio.Client(reconnection=False)
    socket.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=5)
    try:
        polling.client.emit("join_admin_room")
        assert wait_for(lambda: len(polling.named("live_update")) >= 2)
    finally:
        polling.client.disconnect()
        socket.disconnect()
    assert web.get(f"{server.url}/admin/api/health", timeout=5).status_code in (200, 503)

    def endpoints():
        data = web.get(f"{server.url}/admin/api/performance?minutes=5", timeout=5).json()
        return {(e["endpoint"], e["method"]): e for e in data["endpoints"]}

    assert wait_for(lambda: ("api.health_report", "GET") in endpoints())  # flushed by the scheduler
    found = endpoints()
    assert found[("auth.login", "POST")]["count"] == 1
    assert not [key for key in found if key[0] == "(unmatched)"], found
