"""Notifications reach a real local webhook and a real local SMTP server; failures are retried."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

import database
from tests.alert_inputs import feed
from services.alerts import AlertRule
from services.alerts import Alert
from services.alerts import dispatch as alert_dispatch
from services.alerts import lifecycle as alerts
from services.alerts import notifications
from services.alerts import DbProbe
from tests.receivers import (  # noqa: F401 (smtp and webhook are fixtures)
    MEMORY_HIGH, MEMORY_OK, Webhook, notify_app, only_memory, rows, smtp, tick, webhook,
)
from tests.servers import free_port

def test_fire_and_resolve_reach_webhook_and_email(make_app, webhook, smtp):
    controller, inbox = smtp
    app = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url, SMTP_HOST="127.0.0.1",
                     SMTP_PORT=controller.port, SMTP_TO="ops@example.com, oncall@example.com",
                     SMTP_FROM="panel@example.com")
    only_memory(app, ["webhook", "email"])
    tick(app, MEMORY_HIGH)
    assert [b["event"] for b in webhook.bodies] == ["fired"]
    fired = webhook.bodies[0]
    assert "FIRING" in fired["text"] and "High memory use" in fired["text"] and "99" in fired["text"]
    assert fired["alert"]["value"] == 99.0 and fired["alert"]["severity"] == "warning"
    assert len(inbox.messages) == 1
    rcpts, message = inbox.messages[0]
    assert sorted(rcpts) == ["oncall@example.com", "ops@example.com"]
    assert message["From"] == "panel@example.com" and "FIRING" in message["Subject"]

    tick(app, MEMORY_OK)
    assert [b["event"] for b in webhook.bodies] == ["fired", "resolved"]
    assert "RESOLVED" in webhook.bodies[1]["text"] and webhook.bodies[1]["alert"]["auto_resolved"]
    assert "RESOLVED" in inbox.messages[1][1]["Subject"]
    assert [(c, e, s, a) for c, e, s, a, _ in rows(app)] == [
        ("webhook", "fired", "sent", 1), ("email", "fired", "sent", 1),
        ("webhook", "resolved", "sent", 1), ("email", "resolved", "sent", 1)]


def test_failing_webhook_is_retried_with_backoff_until_it_works(make_app):
    hook = Webhook(fail_first=2)
    try:
        app = notify_app(make_app, ALERT_WEBHOOK_URL=hook.url)
        only_memory(app, ["webhook"])
        tick(app, MEMORY_HIGH)
        assert hook.calls == 3 and len(hook.bodies) == 1
        assert rows(app) == [("webhook", "fired", "sent", 3, None)]
    finally:
        hook.close()


def test_a_dead_channel_fails_visibly_and_does_not_stop_the_other(make_app, smtp):
    controller, inbox = smtp
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    app = notify_app(make_app, ALERT_WEBHOOK_URL=dead, SMTP_HOST="127.0.0.1",
                     SMTP_PORT=controller.port, SMTP_TO="ops@example.com")
    only_memory(app, ["webhook", "email"])
    tick(app, MEMORY_HIGH)
    (web, mail) = rows(app)
    assert web[:4] == ("webhook", "fired", "failed", 3) and "ConnectionError" in web[4]
    assert mail[:4] == ("email", "fired", "sent", 1)
    assert len(inbox.messages) == 1
    # What was sent or failed is visible on the alert.
    with database.session_scope(app) as session:
        alert_id = session.scalar(select(Alert.id))
    client = app.test_client()
    client.login("admin", "admin-password-1")
    shown = client.get(f"/admin/api/alerts/{alert_id}").get_json()["alert"]["notifications"]
    assert [(n["channel"], n["status"], n["attempts"]) for n in shown] == [("webhook", "failed", 3),
                                                                            ("email", "sent", 1)]
    assert "ConnectionError" in shown[0]["last_error"]


def test_unconfigured_channels_are_recorded_as_skipped(make_app):
    app = notify_app(make_app)
    only_memory(app, ["webhook", "email"])
    tick(app, MEMORY_HIGH)
    assert [(c, s, e) for c, _, s, _, e in rows(app)] == [
        ("webhook", "skipped", "ALERT_WEBHOOK_URL is not set"),
        ("email", "skipped", "SMTP_HOST and SMTP_TO are not set")]


def test_snoozed_alert_notifies_nothing_and_resolve_only_after_a_fire(make_app, webhook):
    app = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url)
    only_memory(app, ["webhook"])
    with database.session_scope(app) as session:
        rule = session.scalar(select(AlertRule).where(AlertRule.enabled.is_(True)))
        alerts.snooze_rule(session, rule, 30)
    tick(app, MEMORY_HIGH)
    tick(app, MEMORY_OK)
    assert webhook.calls == 0 and rows(app) == []


def test_notifications_never_block_the_tick(make_app):
    """A webhook that hangs must not hold up evaluation: the tick returns at once."""
    import time

    release = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):
            release.wait(5)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = notify_app(make_app, ALERT_WEBHOOK_URL=f"http://127.0.0.1:{server.server_address[1]}/")
        only_memory(app, ["webhook"])
        with database.session_scope(app) as session:
            feed(session, MEMORY_HIGH, database.utcnow())
        started = time.monotonic()
        with database.session_scope(app) as session:
            changes = alert_dispatch.on_tick(app, session, MEMORY_HIGH)
        assert [c.event for c in changes] == ["fired"]
        assert time.monotonic() - started < 2.0
        release.set()
        assert notifications.notifier(app).drain(10)
        assert rows(app)[0][2] == "sent"
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_unsent_rows_are_resumed_after_a_restart(make_app, webhook):
    app = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url)
    only_memory(app, ["webhook"])
    with database.session_scope(app) as session:
        changes = alerts.evaluate(session, feed(session, MEMORY_HIGH, database.utcnow()), probe=DbProbe())
        alert_dispatch.prepare_notifications(app, session, changes)  # committed, never enqueued
    assert rows(app)[0][2] == "queued"
    assert notifications.resume(app) == 1
    assert notifications.notifier(app).drain(10)
    assert rows(app)[0][2] == "sent" and len(webhook.bodies) == 1


def test_health_check_degrades_while_a_channel_fails(make_app):
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    app = notify_app(make_app, ALERT_WEBHOOK_URL=dead, ALERT_NOTIFY_MAX_ATTEMPTS=1)
    assert notifications.health_check(app)["status"] == "healthy"
    only_memory(app, ["webhook"])
    tick(app, MEMORY_HIGH)
    check = notifications.health_check(app)
    assert check["status"] == "degraded" and "webhook" in check["message"]
    assert check["configured"] == ["webhook"]
    # ...and the panel's health report says so too.
    from services.ops import health

    report = health.report(app)
    assert report["checks"]["notifications"]["status"] == "degraded"
    assert any("webhook" in reason for reason in report["reasons"])


def test_the_first_tick_resumes_what_a_stopped_process_left(make_app, webhook):
    app = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url)
    only_memory(app, ["webhook"])
    with database.session_scope(app) as session:
        changes = alerts.evaluate(session, feed(session, MEMORY_HIGH, database.utcnow()), probe=DbProbe())
        alert_dispatch.prepare_notifications(app, session, changes)
    restarted = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url)
    tick(restarted, MEMORY_HIGH)  # still firing: nothing new, but the old row goes out
    assert rows(restarted) == [("webhook", "fired", "sent", 1, None)] and len(webhook.bodies) == 1
