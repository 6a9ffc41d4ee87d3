"""Shared pieces of the routing tests: an app whose default channels and contact points are real
local receivers, and helpers to raise alerts and read what each receiver got."""
from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

import database
from services.alerts import external as alert_external
from services.alerts import dispatch as alert_dispatch
from services.alerts import notifications
from services.routing import contact_points, inhibition, maintenance, policy
from tests.receivers import Inbox, Webhook, notify_app
from tests.servers import free_port


class Receivers:
    """The default webhook, the ML team's webhook and one SMTP server for every address."""

    def __init__(self):
        self.default, self.ml = Webhook(), Webhook()
        self.inbox = Inbox()
        self.smtp = Controller(self.inbox, hostname="127.0.0.1", port=free_port())
        self.smtp.start()

    def close(self):
        self.smtp.stop()
        self.default.close()
        self.ml.close()

    def mail_to(self, address):
        """Subjects of the messages delivered to ``address``."""
        return [m["Subject"] for rcpts, m in self.inbox.messages if address in rcpts]


@pytest.fixture
def receivers():
    r = Receivers()
    yield r
    r.close()


@pytest.fixture
def rapp(make_app, receivers):
    """The panel notifying the receivers: default webhook + ops@ from the settings, and contact
    points "ML chat" (webhook) and "Platform mail" (platform@example.com)."""
    app = notify_app(make_app, ALERT_WEBHOOK_URL=receivers.default.url, SMTP_HOST="127.0.0.1",
                     SMTP_PORT=receivers.smtp.port, SMTP_TO="ops@example.com")
    with database.session_scope(app) as session:
        contact_points.create(session, {"name": "ML chat", "kind": "webhook", "url": receivers.ml.url})
        contact_points.create(session, {"name": "Platform mail", "kind": "email",
                                        "addresses": ["platform@example.com"]})
    return app


def add_policy(app, **payload):
    with database.session_scope(app) as session:
        return policy.create(session, payload).id


def add_inhibition(app, **payload):
    with database.session_scope(app) as session:
        return inhibition.create(session, payload).id


def add_window(app, **payload):
    with database.session_scope(app) as session:
        return maintenance.create(session, payload, "test").id


def fire(app, key, team=None, severity="warning", **labels):
    """Raise an alert from code and wait until its notifications were handled."""
    if team:
        labels["team"] = team
    alert_id = alert_external.raise_alert(key, f"{key} is broken", severity, labels=labels, app=app)
    drain(app)
    return alert_id


def clear(app, key):
    assert alert_external.resolve_alert(key, app=app)
    drain(app)


def catch_up(app, now=None):
    with database.session_scope(app) as session:
        ids = alert_dispatch.catch_up(app, session, now)
    drain(app)
    return ids


def drain(app):
    assert notifications.notifier(app).drain(20), "notifications still queued after 20 s"


def events(hook):
    """(event, [alert titles]) of every message a webhook received."""
    return [(b["event"], [a["title"] for a in b["alerts"]]) for b in hook.bodies]


@pytest.fixture
def admin_client_for():
    """Log the bootstrap admin in on a given app."""
    from tests.conftest import ADMIN

    def login(app):
        client = app.test_client()
        assert client.login(*ADMIN).status_code == 302
        client.fetch_csrf("/admin/dashboard")
        return client

    return login
