"""The Services page in Chromium: an admin adds a monitor of a local HTTP server through the
form (a refused field shown beside it), sees it go up, then down when the server stops,
without reloading the page (the state arrives over the socket)."""
from __future__ import annotations

import pytest

from tests.browser.conftest import eventually, plain_panel, shot
from tests.checks_target import Target

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    yield from plain_panel(tmp_path_factory, "services", env={
        "MONITOR_ALLOW_PRIVATE": "true", "MONITOR_MIN_INTERVAL": "1", "MONITOR_LOOP_SECONDS": "0.2",
        "MONITOR_RELOAD_SECONDS": "0.5"})


def test_a_monitor_goes_up_then_down_when_its_server_stops(watched):
    target = Target()
    page = watched.page
    try:
        watched.goto("/admin/services")
        page.wait_for_selector("#monitors td.empty-cell:has-text('No monitors yet')")
        page.click("#monitor-new")
        page.fill("#monitor-form input[name=name]", "shop health")
        page.fill("#monitor-form input[name=url]", "ftp://127.0.0.1/")
        page.fill("#monitor-form input[name=interval_seconds]", "1")
        page.fill("#monitor-form input[name=failure_threshold]", "1")
        page.fill("#monitor-form input[name=label_service]", "shop")
        page.click("#monitor-save")
        error = page.wait_for_selector("#monitor-form .field-error")
        assert "url must be an http:// or https:// address" in error.inner_text()
        # The browser logs the refusal it was meant to get; nothing else may be logged.
        assert len(watched.errors) == 1 and "400" in watched.errors[0], watched.errors
        watched.errors.clear()
        # The refused monitor was not stored.
        assert page.evaluate("fetch('/admin/api/monitors').then(r => r.json()).then(b => b.monitors.length)") == 0

        page.fill("#monitor-form input[name=url]", target.url + "/health")
        page.fill("#monitor-form input[name=keyword]", "ok")
        page.click("#monitor-save")
        page.wait_for_selector("#monitors tr[data-id] >> text=shop health")
        badge = page.locator("#monitors tr[data-id] .svc-state")
        eventually(lambda: badge.inner_text() == "up", lambda: f"never up: {badge.inner_text()}", timeout=20)
        assert target.hits >= 1
        row = page.locator("#monitors tr[data-id]")
        eventually(lambda: row.locator("td").nth(3).inner_text() == "100 %",
                   lambda: f"24 h uptime: {row.locator('td').nth(3).inner_text()}")
        shot(page, "services-up")

        target.stop()
        eventually(lambda: badge.inner_text() == "down", lambda: f"never down: {badge.inner_text()}",
                   timeout=20)
        assert "connection failed" in row.locator(".svc-error").inner_text()
        assert "down: shop health" in page.locator("#services-summary").inner_text()
        # The monitor-down alert shows in the bell, raised through the alerts lifecycle.
        eventually(lambda: page.locator("#alert-bell .alert-bell-count").inner_text() == "1",
                   "the bell does not count the monitor's alert")

        # p50 / p95 of the last 24 h, from the hour histograms, in the row.
        assert row.locator(".svc-pct").inner_text().startswith("p50 ")
        assert " · p95 " in row.locator(".svc-pct").inner_text()

        # The detail view: the state changes with their times and errors, the latency chart.
        page.click("#monitors tr[data-id] button.link-button")
        page.wait_for_selector("#monitor-detail:not([hidden]) #detail-events tr[data-to]")
        changes = page.locator("#detail-events tbody tr")
        assert changes.count() == 2  # newest first: up -> down, then pending -> up
        down_change = changes.nth(0).locator("td")
        assert [down_change.nth(i).inner_text() for i in (1, 2)] == ["up", "down"]
        assert "connection failed" in down_change.nth(3).inner_text() and down_change.nth(0).inner_text()
        assert [changes.nth(1).locator("td").nth(i).inner_text() for i in (1, 2)] == ["pending", "up"]
        points = page.evaluate("document.getElementById('chart-monitor-latency').chart.data.datasets"
                               ".map(ds => ds.data.filter(v => v !== null).length)")
        assert points[0] >= 1 and points == [points[0]] * 3, points  # average, p50, p95 per hour
        page.click("[data-target=monitor-latency]")
        page.wait_for_selector("#table-monitor-latency:not([hidden]) tbody tr th")
        assert page.locator("#table-monitor-latency thead th").all_inner_texts() == ["Hour", "average", "p50", "p95"]
        assert " ms" in page.locator("#table-monitor-latency tbody tr td").first.inner_text()
        shot(page, "services-detail")

        page.click("#spark-toggle")
        assert page.locator("#spark-toggle").inner_text() == "Show as chart"
        assert page.locator("#monitors .svc-spark-table td").count() >= 3
        shot(page, "services-down")
        watched.assert_clean()
    finally:
        target.stop()
