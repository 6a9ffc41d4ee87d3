"""What changes between a page's first figures and its joining of the live room reaches it: the
page's socket is held back after the page asked for its figures, an alert fires meanwhile (its
event goes to a room the page is not in yet), and once the socket connects the bell and the
Alerts page's open list show it."""
from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import SERVER_ENV, eventually, plain_panel

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

# Runs before the page's scripts: the Socket.IO client, once loaded, makes its socket without
# connecting and leaves it to the test (window.__heldSocket.connect()).
HOLD_SOCKET = """
(() => {
  let real = null;
  Object.defineProperty(window, "io", {
    configurable: true,
    get() {
      return real && ((options) => (window.__heldSocket = real({ ...options, autoConnect: false })));
    },
    set(value) { real = value; },
  });
})();
"""
BELL = "#alert-bell .alert-bell-count"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    yield from plain_panel(tmp_path_factory, "live-join")


def test_an_alert_fired_before_the_page_joined_the_live_room_is_counted(watched, panel):
    page = watched.page
    page.context.add_init_script(HOLD_SOCKET)
    watched.goto("/admin/alerts")
    eventually(lambda: page.inner_text(BELL) == "0", lambda: f"bell: {page.inner_text(BELL)!r}")
    assert page.evaluate("() => window.__heldSocket && window.__heldSocket.connected") is False

    sent = requests.post(f"{panel.url}/api/v1/events", timeout=10,
                         headers={"Authorization": f"Bearer {SERVER_ENV['INGEST_API_KEY']}"},
                         json={"alerts": [{"key": "join-window", "status": "firing",
                                           "title": "Fired before the page joined", "severity": "warning"}]})
    assert sent.status_code == 202, sent.text
    page.wait_for_timeout(1000)  # the alert's event has gone out, to a room this page is not in
    rows = page.locator("#open-alerts tr[data-alert-id]", has_text="Fired before the page joined")
    assert page.inner_text(BELL) == "0" and rows.count() == 0

    page.evaluate("() => window.__heldSocket.connect()")
    eventually(lambda: page.inner_text(BELL) == "1",
               lambda: f"the bell still says {page.inner_text(BELL)!r} after joining", timeout=10)
    assert page.evaluate("() => document.body.dataset.live") == "live"
    eventually(lambda: rows.count() == 1, lambda: "the open list does not show the alert", timeout=10)
    watched.assert_clean()
