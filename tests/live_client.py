"""Talk to a real running panel like a browser does: log in through the form, then open Socket.IO."""
from __future__ import annotations

import queue
import re
import threading
import time

import requests
import socketio


def login(base_url: str, username: str, password: str) -> tuple[requests.Session, str]:
    """A requests session logged in through the login form, and the page's CSRF token."""
    http = requests.Session()
    page = http.get(f"{base_url}/admin/login", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    resp = http.post(f"{base_url}/admin/login", data={"username": username, "password": password,
                                                      "csrf_token": token},
                     allow_redirects=False, timeout=10)
    assert resp.status_code == 302, f"login failed: {resp.status_code} {resp.text[:200]}"
    dashboard = http.get(f"{base_url}/admin/dashboard", timeout=10).text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', dashboard).group(1)
    return http, csrf


class LiveClient:
    """A python-socketio client on ``base_url`` with ``http``'s cookies; collects live_update payloads."""

    def __init__(self, base_url: str, http: requests.Session, transports=("websocket",)):
        self.updates: queue.Queue = queue.Queue()
        self.status: queue.Queue = queue.Queue()
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=1)
        self.sio.on("live_update", self.updates.put)
        self.sio.on("status", self.status.put)
        self.lock = threading.Lock()
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        self.sio.connect(base_url, headers={"Cookie": cookie}, transports=list(transports),
                         wait_timeout=10)
        self.sio.emit("join_admin_room")

    def wait_for(self, predicate, timeout: float = 15.0):
        """The first live_update for which ``predicate(payload)`` holds; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            try:
                payload = self.updates.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen += 1
            if predicate(payload):
                return payload
        raise AssertionError(f"no matching live_update within {timeout}s ({seen} updates seen)")

    def close(self) -> None:
        """Disconnect (safe to call twice)."""
        if self.sio.connected:
            self.sio.disconnect()
