"""Views kept in the address, in a real Chromium: a link copied from one browser context and
opened in a new one shows the same view (Revenue, Logs, Performance, Activity); back restores."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.browser.conftest import SERVER_ENV, eventually, plain_panel, url_query

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
KEY = SERVER_ENV["INGEST_API_KEY"]


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    yield from plain_panel(tmp_path_factory, "urlstate")


@pytest.fixture
def fresh(new_context):
    """A new browser context per call, in Europe/Berlin."""
    return lambda: new_context("Europe/Berlin")


query = url_query


def test_revenue_view_travels_in_its_link(fresh):
    first = fresh()
    page = first.page
    first.goto("/admin/revenue")
    page.fill("#range-start", "2026-10-20")
    page.fill("#range-end", "2026-10-27")
    page.click("#range-form button[type=submit]")
    page.click('.period[data-period="hourly"]')
    asked = first.drawn_answer("revenue", "/admin/api/analytics/revenue", period="hourly")
    eventually(lambda: query(page).get("period") == "hourly", lambda: page.url)
    link = page.url
    assert (query(page)["start"], query(page)["end"], query(page)["tz"]) == ("2026-10-20", "2026-10-27", "Europe/Berlin")

    second = fresh()
    second.page.goto(link)
    again = second.drawn_answer("revenue", "/admin/api/analytics/revenue", period="hourly")
    assert parse_qs(urlparse(again["url"]).query) == parse_qs(urlparse(asked["url"]).query)
    assert second.page.input_value("#range-start") == "2026-10-20"
    assert second.page.get_attribute('.period[data-period="hourly"]', "aria-pressed") == "true"
    # Back: the daily view before the hourly click returns.
    page.go_back()
    eventually(lambda: page.get_attribute('.period[data-period="daily"]', "aria-pressed") == "true", "back did not restore")
    first.assert_clean()
    second.assert_clean()


def test_logs_filters_travel_in_their_link(fresh, panel):
    lines = [{"service": "pay", "level": "error", "message": "card declined"},
             {"service": "pay", "level": "info", "message": "card accepted"},
             {"service": "ship", "level": "error", "message": "label failed"}]
    assert requests.post(f"{panel.url}/api/v1/events", json={"logs": lines},
                         headers={"Authorization": f"Bearer {KEY}"}, timeout=10).status_code == 202
    first = fresh()
    page = first.page
    first.goto("/admin/logs")
    page.select_option("#f-level", "error")
    page.fill("#f-service", "pay")
    page.click("#log-filters button[type=submit]")
    eventually(lambda: query(page).get("service") == "pay", lambda: page.url)
    second = fresh()
    second.page.goto(page.url)
    eventually(lambda: second.page.locator("#log-list li").count() == 1, "filtered logs not shown")
    assert "card declined" in second.page.inner_text("#log-list")
    assert (second.page.input_value("#f-level"), second.page.input_value("#f-service")) == ("error", "pay")
    first.assert_clean()
    second.assert_clean()


def test_performance_and_activity_views_travel_in_their_links(fresh):
    first = fresh()
    page = first.page
    first.goto("/admin/performance")
    page.select_option("#perf-minutes", "360")
    page.check("#perf-own")
    page.click('#endpoints th[data-key="p95_ms"] button')
    eventually(lambda: query(page).get("sort") == "p95_ms", lambda: page.url)
    second = fresh()
    second.page.goto(page.url)
    eventually(lambda: second.page.get_attribute('#endpoints th[data-key="p95_ms"]', "aria-sort") == "descending",
               "sorting not restored")
    assert second.page.input_value("#perf-minutes") == "360" and second.page.is_checked("#perf-own")
    own = [r for r in second.sent if "/admin/api/performance" in r.url]
    assert own and "exclude" not in own[-1].url  # the toggle shows the panel's own traffic
    third = fresh()
    third.goto("/admin/performance")
    eventually(lambda: any("exclude=panel-api" in r.url for r in third.sent), "own traffic not hidden by default")
    first.goto("/admin/activity")
    page.select_option("#activity-minutes", "1440")
    fourth = fresh()
    fourth.page.goto(page.url)
    assert fourth.page.input_value("#activity-minutes") == "1440"
    for w in (first, second, third, fourth):
        w.assert_clean()


def test_alert_history_filters_travel_in_their_link(fresh):
    first = fresh()
    page = first.page
    first.goto("/admin/alerts")
    page.select_option("#history-filters select[name=status]", "resolved")
    page.select_option("#history-filters select[name=severity]", "critical")
    page.click("#history-filters button[type=submit]")
    eventually(lambda: query(page).get("severity") == "critical", lambda: page.url)
    assert query(page)["status"] == "resolved"
    second = fresh()
    second.page.goto(page.url)
    eventually(lambda: any("severity=critical" in r.url and "status=resolved" in r.url and "/admin/api/alerts?" in r.url
                           for r in second.sent), "the pasted link did not ask for the same history")
    form = "#history-filters select[name=%s]"
    assert (second.page.input_value(form % "status"), second.page.input_value(form % "severity")) == ("resolved", "critical")
    first.assert_clean()
    second.assert_clean()
