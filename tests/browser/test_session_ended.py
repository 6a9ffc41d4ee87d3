"""A page whose session ended in another tab, in a real Chromium against a real server.

After a logout in a second tab of the same browser, ⟳ on the first tab must not leave the old
figures on screen, must not claim "No requests recorded yet", and must say once, clearly, that
the session ended, with a way to log in again (not a pile of error toasts).
"""
from __future__ import annotations

import time

import pytest

from tests.browser.conftest import PASSWORD, USER, plain_panel

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """A server of its own: logging out ends every session of the user, so no other module shares it."""
    yield from plain_panel(tmp_path_factory, "session")


def wait_for_endpoints(page, url):
    """The performance table needs the panel's own requests flushed (a tick) before it has rows."""
    deadline = time.monotonic() + 20
    while not page.request.get(f"{url}/admin/api/performance?minutes=15").json()["endpoints"]:
        assert time.monotonic() < deadline, "no request was ever recorded"
        time.sleep(0.3)


def test_refresh_after_a_logout_elsewhere_says_once_that_the_session_ended(watched, panel):
    page = watched.page
    wait_for_endpoints(page, panel.url)
    watched.goto("/admin/performance")
    page.wait_for_selector("#endpoints tbody td.num")
    page.wait_for_function("() => document.getElementById('conn-badge').textContent === 'live'")
    page.wait_for_function("() => document.querySelector('[data-card=rpm]').dataset.state === 'ready'")

    other = page.context.new_page()  # a second tab of the same browser
    other.goto(f"{panel.url}/admin/dashboard")
    other.click("form[action$='/admin/logout'] button[type=submit]")
    other.wait_for_url("**/admin/login")
    other.close()

    page.click("#refresh-btn")
    page.wait_for_function("() => document.body.dataset.session === 'ended'")
    # The socket gave up too: nothing is left that could raise another message.
    page.wait_for_function("() => document.getElementById('conn-badge').textContent === 'signed out'")
    message = page.locator("#session-ended")
    assert message.count() == 1 and message.is_visible()
    assert message.get_attribute("role") == "alert"
    assert "Your session has ended" in message.inner_text()
    link = message.get_by_role("link", name="Log in again")
    assert link.get_attribute("href") == "/admin/login?next=%2Fadmin%2Fperformance"
    assert page.locator(".toast").count() == 0
    text = page.inner_text("main")
    assert "No requests recorded yet" not in text
    assert not page.locator("[data-card]").first.is_visible() and not page.locator("#endpoints").is_visible()

    # ⟳ again: still the one message, still no toast.
    page.click("#refresh-btn")
    page.wait_for_function("() => !document.getElementById('refresh-btn').disabled")
    assert page.locator("#session-ended").count() == 1 and page.locator(".toast").count() == 0

    # The link leads back to this page once logged in again.
    link.click()
    page.wait_for_url("**/admin/login?next=*")
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/performance")
    page.wait_for_function("() => document.getElementById('conn-badge').textContent === 'live'")
    assert page.locator("#session-ended").count() == 0
    # The browser logs the 401s it was served; nothing else may appear.
    watched.errors = [e for e in watched.errors if "401" not in e]
    watched.assert_clean()
