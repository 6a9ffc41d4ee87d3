"""What the Alerts page says about each notification channel, and its "send test" button's route.

Against a real local webhook receiver and a real SMTP server (aiosmtpd): a channel reports
whether it is configured, where it delivers and how its last alert notification went; a test
message reaches the receiver, a failing receiver is reported as such, and every test is audited.
"""
from __future__ import annotations

from sqlalchemy import select

import database
from services.accounts import AuditLog
from tests.receivers import (  # noqa: F401 (smtp and webhook are fixtures)
    MEMORY_HIGH, Webhook, notify_app, only_memory, smtp, tick, webhook,
)
from tests.servers import free_port
from tests.helpers import ADMIN

TEST_URL = "/admin/api/alerts/channels/{}/test"


def logged_in(app, user=ADMIN):
    client = app.test_client()
    assert client.login(*user).status_code == 302
    client.fetch_csrf("/admin/dashboard")
    return client


def states(client):
    resp = client.get("/admin/api/alerts/channels")
    assert resp.status_code == 200
    body = resp.get_json()
    return body, {c["name"]: c for c in body["channels"]}


def audit_entries(app, action="alert_channel.test"):
    with database.session_scope(app) as session:
        return [(a.actor, a.target, a.outcome, a.detail) for a in
                session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))]


def test_without_configuration_no_channel_can_deliver(make_app):
    app = notify_app(make_app)
    client = logged_in(app)
    body, by_name = states(client)
    assert body["configured"] == 0
    assert not by_name["webhook"]["configured"] and "ALERT_WEBHOOK_URL" in by_name["webhook"]["problem"]
    assert not by_name["email"]["configured"] and "SMTP_HOST" in by_name["email"]["problem"]
    # A test through an unconfigured channel is refused, sends nothing and is not audited as sent.
    resp = client.api("POST", TEST_URL.format("webhook"))
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "not_configured"
    assert client.api("POST", TEST_URL.format("pager")).status_code == 404
    assert audit_entries(app) == []


def test_configured_channels_show_their_target_and_last_delivery(make_app, webhook, smtp):
    controller, inbox = smtp
    secret_url = webhook.url + "/T000/B000/secret-token"
    app = notify_app(make_app, ALERT_WEBHOOK_URL=secret_url, SMTP_HOST="127.0.0.1",
                     SMTP_PORT=controller.port, SMTP_TO="ops@example.com, oncall@example.com")
    client = logged_in(app)
    body, by_name = states(client)
    assert body["configured"] == 2
    host = webhook.url.rsplit("/", 1)[0]
    # The webhook's path often is its secret: only the scheme, host and port are shown.
    assert by_name["webhook"]["target"] == host and "secret" not in str(body)
    assert by_name["email"]["target"] == f"127.0.0.1:{controller.port}, 2 recipients"
    assert by_name["webhook"]["last_delivery"] is None

    only_memory(app, ["webhook", "email"])
    tick(app, MEMORY_HIGH)
    _, by_name = states(client)
    for name in ("webhook", "email"):
        last = by_name[name]["last_delivery"]
        assert last["status"] == "sent" and last["event"] == "fired" and last["sent_at"], last
    assert len(webhook.bodies) == 1 and len(inbox.messages) == 1


def test_a_failing_webhook_shows_as_failed_with_its_error(make_app):
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    app = notify_app(make_app, ALERT_WEBHOOK_URL=dead, ALERT_NOTIFY_MAX_ATTEMPTS=1)
    only_memory(app, ["webhook"])
    tick(app, MEMORY_HIGH)
    _, by_name = states(logged_in(app))
    last = by_name["webhook"]["last_delivery"]
    assert last["status"] == "failed" and "ConnectionError" in last["error"] and last["sent_at"] is None


def test_send_test_reaches_the_webhook_and_the_mailbox_and_is_audited(make_app, webhook, smtp):
    controller, inbox = smtp
    app = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url, SMTP_HOST="127.0.0.1",
                     SMTP_PORT=controller.port, SMTP_TO="ops@example.com")
    client = logged_in(app)
    resp = client.api("POST", TEST_URL.format("webhook"))
    assert resp.status_code == 200, resp.get_json()
    result = resp.get_json()
    assert result["channel"] == "webhook" and result["delivered"] is True and result["error"] is None
    (body,) = webhook.bodies
    assert body["event"] == "test" and body["text"].startswith("[TEST]") and "admin" in body["text"]

    resp = client.api("POST", TEST_URL.format("email"))
    assert resp.status_code == 200 and resp.get_json()["delivered"] is True
    ((rcpts, message),) = inbox.messages
    assert rcpts == ["ops@example.com"] and message["Subject"].startswith("[TEST]")
    assert audit_entries(app) == [("admin", "channel:webhook", "success", None),
                                  ("admin", "channel:email", "success", None)]


def test_send_test_reports_a_failed_delivery(make_app):
    failing = Webhook(fail_first=1)
    try:
        app = notify_app(make_app, ALERT_WEBHOOK_URL=failing.url)
        resp = logged_in(app).api("POST", TEST_URL.format("webhook"))
    finally:
        failing.close()
    assert resp.status_code == 200
    result = resp.get_json()
    assert result["delivered"] is False and "HTTP 500" in result["error"]
    ((actor, target, outcome, detail),) = audit_entries(app)
    assert (actor, target, outcome) == ("admin", "channel:webhook", "failure") and "HTTP 500" in detail["error"]


def test_send_test_is_for_admins_with_the_csrf_token(make_app, webhook):
    app = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url)
    from services.accounts import users

    with database.session_scope(app) as session:
        users.create_user(session, "watcher", "watcher-password-1", "viewer", "pbkdf2:sha256:1000")
    viewer = logged_in(app, ("watcher", "watcher-password-1"))
    assert viewer.get("/admin/api/alerts/channels").status_code == 200  # viewers may look
    assert viewer.api("POST", TEST_URL.format("webhook")).status_code == 403
    admin = logged_in(app)
    no_token = admin.post(TEST_URL.format("webhook"))
    assert no_token.status_code == 400 and no_token.get_json()["error"]["code"] == "csrf_failed"
    assert app.test_client().post(TEST_URL.format("webhook")).status_code in (400, 401)
    assert webhook.calls == 0 and audit_entries(app) == []
