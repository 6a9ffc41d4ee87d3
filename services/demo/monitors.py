"""The demo's service monitors: the panel's own pages, a heartbeat from the traffic generator,
and a small fake payment provider that fails during the shop's payment outages.

The provider is a real HTTP server on 127.0.0.1 (a free port picked at each start) whose
``/health`` answers 200 normally and, while the shop is in a payment outage, 503 or too slowly
for its monitor; so the Services page shows real transitions (up → down → up) soon after the
first start, checked by the same runner as any monitor. The demo's monitors point at loopback,
so demo mode allows private targets (``MONITOR_ALLOW_PRIVATE``).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask import Flask
from sqlalchemy import select

import database
from database import utcnow
from services.checks import service
from services.checks.models import Monitor
from services.demo.traffic import Shop

log = logging.getLogger(__name__)
PROVIDER = "Payment provider (demo)"
HEARTBEAT = "Demo traffic generator"
# How often the generator stamps its heartbeat, and the push monitor's interval.
BEAT_SECONDS = 10.0
# The provider's slow answers during an outage: beyond its monitor's max_response_ms.
SLOW_SECONDS, MAX_RESPONSE_MS = 1.5, 1000


class FakeProvider:
    """The payment provider's health endpoint, failing while ``shop`` is in an outage."""

    def __init__(self, shop: Shop):
        self.shop = shop
        self.answers = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server name
                provider.answers += 1
                status, body = 200, {"status": "ok"}
                if provider.shop.in_outage(utcnow()):
                    # Alternate a refusal and a slow answer: both are how a gateway fails.
                    if provider.answers % 2:
                        status, body = 503, {"status": "unavailable"}
                    else:
                        time.sleep(SLOW_SECONDS)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args):  # the console is for the panel's own lines
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        self.thread = threading.Thread(target=self.server.serve_forever, name="demo-provider", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()


def specs(panel_url: str, provider_url: str) -> list[dict[str, Any]]:
    """The demo's monitors, by name (created, or updated to these fields, at each start)."""
    own = {"service": "panel", "team": "ops"}
    return [
        {"name": "Panel login page", "kind": "http", "url": f"{panel_url}/admin/login",
         "expected_status": "200", "keyword": "csrf-token", "interval_seconds": 30, "labels": own},
        {"name": "Panel liveness probe", "kind": "http", "url": f"{panel_url}/healthz",
         "interval_seconds": 30, "labels": own},
        {"name": "Panel database", "kind": "database", "interval_seconds": 30, "labels": own},
        {"name": HEARTBEAT, "kind": "push", "interval_seconds": int(BEAT_SECONDS * 3),
         "grace_seconds": 30, "labels": {"service": "demo", "team": "ops"}},
        {"name": PROVIDER, "kind": "http", "url": provider_url, "expected_status": "200-299",
         "json_path": "$.status", "json_expected": "ok", "max_response_ms": MAX_RESPONSE_MS,
         "interval_seconds": 10, "timeout_seconds": 5, "failure_threshold": 2, "recovery_threshold": 2,
         "labels": {"service": "payments", "team": "payments", "external": "true"}},
    ]


def ensure(app: Flask, panel_url: str, provider_url: str) -> str:
    """Create or update the demo's monitors; returns the heartbeat's push token."""
    with database.session_scope(app) as session:
        for spec in specs(panel_url, provider_url):
            existing = session.scalar(select(Monitor).where(Monitor.name == spec["name"]))
            if existing is None:
                service.create(session, spec)
            elif existing.kind == spec["kind"] and _differs(existing, spec):
                # A new start serves the provider on a new port: follow it.
                service.update(session, existing.id, spec)
        return session.scalar(select(Monitor.push_token).where(Monitor.name == HEARTBEAT))


def _differs(monitor: Monitor, spec: dict) -> bool:
    body = service.to_input(monitor)
    return any(body.get(k) != v for k, v in spec.items())


class Heartbeat:
    """The traffic generator's heartbeat: stamps the push monitor at most every ``BEAT_SECONDS``."""

    def __init__(self, app: Flask, token: str | None):
        self.app, self.token = app, token
        self.last: datetime | None = None

    def __call__(self, now: datetime) -> bool:
        """Beat if due; True when it stamped the monitor."""
        if not self.token or (self.last is not None and now - self.last < timedelta(seconds=BEAT_SECONDS)):
            return False
        with database.session_scope(self.app) as session:
            service.heartbeat(session, self.token, {"status": "up", "message": "traffic flowing"}, now)
        self.last = now
        return True


def first_outage(shop: Shop, now: datetime, after_seconds: float = 60.0) -> None:
    """A three-minute payment outage soon after start, so the board shows a transition early."""
    if not any(end > now for _start, end in shop.outages):
        begin = now + timedelta(seconds=after_seconds)
        shop.outages.append((begin, begin + timedelta(minutes=3)))


_provider: list[FakeProvider] = []


def start(app: Flask, shop: Shop, panel_url: str) -> Heartbeat:
    """Serve the fake provider, set up the monitors, plan an early outage; returns the heartbeat."""
    # The demo's targets are on loopback; a demo runs on one machine for one person.
    app.config["MONITOR_ALLOW_PRIVATE"] = True
    stop()
    provider = FakeProvider(shop)
    _provider.append(provider)
    token = ensure(app, panel_url, provider.url)
    first_outage(shop, utcnow(), float(app.config.get("DEMO_FIRST_OUTAGE_SECONDS", 60.0)))
    log.info("demo payment provider serving %s", provider.url)
    return Heartbeat(app, token)


def stop() -> None:
    """Stop the fake provider of this process, if any."""
    while _provider:
        _provider.pop().stop()
