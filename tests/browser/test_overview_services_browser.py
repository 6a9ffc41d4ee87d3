"""The Overview in Chromium: the Services card counts a monitor that is really down (a local
server answering 500) and names it, and the timeline shades that monitor's earlier down window
like an alert window, listed with its money at risk."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

import database
from services.checks import service
from services.checks.models import MonitorEvent
from tests.browser.conftest import eventually, plain_panel, shot
from tests.browser.test_timeline_browser import PROBE
from tests.checks_target import Target

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]
TITLE = "Monitor pay gateway down"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    yield from plain_panel(tmp_path_factory, "overview-services", env={
        "MONITOR_ALLOW_PRIVATE": "true", "MONITOR_MIN_INTERVAL": "1", "MONITOR_LOOP_SECONDS": "0.2",
        "MONITOR_RELOAD_SECONDS": "0.5"})


@pytest.fixture
def failing(panel):
    """A monitor of a server that answers 500, with an earlier outage three to two hours ago."""
    target = Target()
    target.status = 500
    engine = database.make_engine(panel.server.env["DATABASE_URL"])
    now = database.utcnow()
    try:
        with Session(engine) as session:
            mid = service.create(session, {"name": "pay gateway", "kind": "http", "url": target.url,
                                           "interval_seconds": 1, "failure_threshold": 1}, min_interval=1).id
            session.add_all([
                MonitorEvent(monitor_id=mid, at=now - timedelta(hours=3), from_state="up", to_state="down",
                             error="HTTP 503"),
                MonitorEvent(monitor_id=mid, at=now - timedelta(hours=2), from_state="down", to_state="up")])
            session.commit()
        yield target
    finally:
        engine.dispose()
        target.stop()


def test_services_card_and_monitor_windows_on_the_timeline(watched, failing):
    page = watched.page
    watched.goto("/admin/dashboard")
    card = page.locator("#card-services")
    eventually(lambda: card.get_attribute("data-down") == "1",
               lambda: f"the card never counted the monitor down: {card.inner_text()}", timeout=20)
    assert card.locator("[data-field=services]").inner_text() == "0 up · 1 down"
    link = card.locator("a.services-down-link")
    assert link.inner_text() == "pay gateway" and link.get_attribute("href") == "/admin/services"
    assert failing.hits >= 1

    page.wait_for_function("() => document.querySelector('[data-chart=timeline]').dataset.monitorWindows >= 1")
    probe = page.evaluate(PROBE.replace(repr("Checkout failures (browser test)"), repr(TITLE)), "timeline")
    assert probe is not None, "the monitor's down window was not drawn"
    plot = page.evaluate("() => { const a = window.panel.charts.chartFor('timeline').chartArea; return a.right - a.left; }")
    assert 0.03 * plot < probe["width"] < 0.055 * plot  # one hour of 24
    assert probe["inside"] > probe["outside"], probe
    rows = page.locator("#timeline-alerts tbody tr[data-monitor-id]", has_text=TITLE)
    assert rows.count() >= 1 and "still open" not in rows.first.inner_text()
    assert rows.first.locator("td.num").count() == 4  # revenue during, a week earlier, difference, change
    page.locator('[data-chart="timeline"]').scroll_into_view_if_needed()
    shot(page, "overview-services")

    link.click()
    page.wait_for_url("**/admin/services")
    watched.assert_clean()
