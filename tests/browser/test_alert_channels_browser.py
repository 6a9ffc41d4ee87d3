"""The Alerts page's notification channels in a real Chromium, against a server whose webhook is a
real local HTTP receiver and whose e-mail goes to a real local SMTP server (aiosmtpd).

An admin sees both channels configured and where they deliver, and each "Send test" button
delivers a marked test message that the receiver really gets.
"""
from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from tests.browser.conftest import plain_panel, shot
from tests.receivers import Inbox, Webhook
from tests.servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def receivers():
    """A webhook receiver and an SMTP server for the whole module."""
    hook, inbox = Webhook(), Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield hook, controller, inbox
    controller.stop()
    hook.close()


@pytest.fixture(scope="module")
def panel(tmp_path_factory, receivers):
    """A plain server notifying the local receivers."""
    hook, controller, _ = receivers
    yield from plain_panel(tmp_path_factory, "channels", {
        "ALERT_WEBHOOK_URL": hook.url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(controller.port),
        "SMTP_TO": "ops@example.com", "SMTP_STARTTLS": "false"})


def test_send_test_buttons_reach_the_webhook_and_the_mailbox(watched, receivers):
    hook, controller, inbox = receivers
    page = watched.page
    watched.goto("/admin/alerts")
    page.wait_for_selector("#channels tbody tr[data-channel=email]")
    assert page.locator("#channel-warning").is_hidden()
    webhook_row = page.locator("#channels tr[data-channel=webhook]")
    email_row = page.locator("#channels tr[data-channel=email]")
    assert webhook_row.get_attribute("data-configured") == "true"
    assert hook.url.rsplit("/", 1)[0] in webhook_row.inner_text()
    assert f"127.0.0.1:{controller.port}, 1 recipient" in email_row.inner_text()

    webhook_row.get_by_role("button", name="Send test").click()
    webhook_row.locator(".chan-result", has_text="Test delivered").wait_for()
    assert [b["event"] for b in hook.bodies] == ["test"] and hook.bodies[0]["text"].startswith("[TEST]")

    email_row.get_by_role("button", name="Send test").click()
    email_row.locator(".chan-result", has_text="Test delivered").wait_for()
    ((rcpts, message),) = inbox.messages
    assert rcpts == ["ops@example.com"] and message["Subject"].startswith("[TEST]")
    page.locator("#channels-section").scroll_into_view_if_needed()
    shot(page, "alerts-channels")

    # Both tests are in the audit trail.
    watched.goto("/admin/audit")
    page.wait_for_selector("#audit-table tbody time")
    rows = page.locator("#audit-table tbody tr", has_text="alert_channel.test")
    assert rows.count() == 2 and "success" in rows.first.inner_text()
    watched.assert_clean()
