"""Real local receivers for alert notifications (an HTTP webhook endpoint, an SMTP server) and
the helpers that make an alert fire. Shared by the notification and channel tests (import the
fixtures by name).
"""
from __future__ import annotations

import json
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

import database
from tests import alert_inputs
from services.alerts import AlertRule
from services.alerts import AlertNotification
from services.alerts import dispatch as alert_dispatch
from services.alerts import notifications
from tests.servers import free_port

MEMORY_HIGH = {"system": {"cpu_percent": 5.0, "memory_percent": 99.0, "disk_percent": 10.0}}
MEMORY_OK = {"system": {"cpu_percent": 5.0, "memory_percent": 20.0, "disk_percent": 10.0}}


class Webhook:
    """A local HTTP endpoint recording JSON bodies; the first ``fail_first`` calls answer 500."""

    def __init__(self, fail_first: int = 0):
        self.bodies: list[dict] = []
        self.calls = 0
        self.fail_first = fail_first
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                hook.calls += 1
                if hook.calls <= hook.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"boom")
                    return
                hook.bodies.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Inbox:
    """aiosmtpd handler keeping every message."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def webhook():
    """A webhook receiver that accepts everything."""
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free port: (controller, inbox)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def notify_app(make_app, **overrides):
    """An app with quick retries and short timeouts for the notification tests."""
    cfg = {"ALERT_NOTIFY_BACKOFF_SECONDS": 0.05, "ALERT_NOTIFY_MAX_ATTEMPTS": 3,
           "ALERT_WEBHOOK_TIMEOUT": 2.0, "SMTP_TIMEOUT": 2.0, "SMTP_STARTTLS": False, **overrides}
    return make_app(**cfg)


def tick(app, snapshot):
    """Evaluate the rules on ``snapshot`` and wait until every notification was handled."""
    with database.session_scope(app) as session:  # committed: the tick's other sessions write too
        alert_inputs.feed(session, snapshot, database.utcnow())
    with database.session_scope(app) as session:
        alert_dispatch.on_tick(app, session, snapshot)
    assert notifications.notifier(app).drain(15), "notifications still queued after 15 s"


def rows(app):
    """Every notification row as (channel, event, status, attempts, last_error), oldest first."""
    with database.session_scope(app) as session:
        return [(n.channel, n.event, n.status, n.attempts, n.last_error)
                for n in session.scalars(select(AlertNotification).order_by(AlertNotification.id))]


def only_memory(app, channels):
    """Enable only the memory rule, notifying ``channels``."""
    with database.session_scope(app) as session:
        for rule in session.scalars(select(AlertRule)):
            rule.enabled = (rule.params or {}).get("key") == "memory"
            rule.channels = channels
