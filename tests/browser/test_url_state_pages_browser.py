"""Metrics, Services and Exports keep their view in the address, in a real Chromium: the URL
copied from one browser context, opened in a new one, shows the same choices; back restores
the view before the last choice."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.browser.conftest import INGEST_KEY, eventually, plain_panel, url_query

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    yield from plain_panel(tmp_path_factory, "urlpages")


@pytest.fixture
def fresh(new_context):
    """A new browser context per call, in the machine's zone."""
    return new_context


query = url_query


def test_metrics_view_travels_in_its_link(fresh, panel):
    points = [{"name": "urlstate_depth", "value": 3, "labels": {"queue": q}} for q in ("mail", "pay")]
    points.append({"name": "urlstate_lag", "value": 7, "labels": {"queue": "mail"}})
    assert requests.post(f"{panel.url}/api/v1/metrics", json={"metrics": points}, timeout=10,
                         headers={"Authorization": f"Bearer {INGEST_KEY}"}).status_code == 202
    first = fresh()
    page = first.page
    first.goto("/admin/metrics")
    eventually(lambda: page.locator('#metric-name option[value="urlstate_depth"]').count() == 1, "metric not listed")
    page.select_option("#metric-name", "urlstate_lag")
    page.click("#metric-add")
    page.select_option("#metric-name", "urlstate_depth")
    page.fill("#metric-match", 'queue="pay"')
    page.select_option("#metric-agg", "max")
    page.click("#metric-form button[type=submit]")
    page.select_option("#metric-range", "24")
    eventually(lambda: query(page).get("range") == "24", lambda: page.url)
    assert (query(page)["metric"], query(page)["match"], query(page)["agg"]) == ("urlstate_depth", 'queue="pay"', "max")

    second = fresh()
    second.page.goto(page.url)
    s = second.page
    eventually(lambda: s.input_value("#metric-name") == "urlstate_depth", lambda: s.input_value("#metric-name"))
    assert (s.input_value("#metric-match"), s.input_value("#metric-agg"), s.input_value("#metric-range")) == \
        ('queue="pay"', "max", "24")
    assert s.inner_text("#metric-pinned").startswith("avg(urlstate_lag)")
    # The restored queries are the ones asked for: both metrics over 24 hours.
    eventually(lambda: {parse_qs(urlparse(r.url).query)["name"][0] for r in second.sent
                        if "/admin/api/metrics/query" in r.url} >= {"urlstate_depth", "urlstate_lag"}, "queries not asked")
    asked = [parse_qs(urlparse(r.url).query) for r in second.sent if "/admin/api/metrics/query" in r.url]
    assert any(q["name"] == ["urlstate_depth"] and q["agg"] == ["max"] and q["match"] == ['queue="pay"'] for q in asked)
    # Back: the 1-hour range before the last choice returns.
    page.go_back()
    eventually(lambda: page.input_value("#metric-range") == "1", "back did not restore the range")
    first.assert_clean()
    second.assert_clean()


def test_services_detail_and_toggle_travel_in_their_link(fresh, panel):
    first = fresh()
    page = first.page
    first.goto("/admin/services")
    page.click("#monitor-new")
    page.fill("#monitor-form input[name=name]", "panel itself")
    page.fill("#monitor-form input[name=url]", f"{panel.url}/health")
    page.click("#monitor-save")
    page.wait_for_selector("#monitors tr[data-id] >> text=panel itself")
    monitor_id = page.get_attribute("#monitors tr[data-id]", "data-id")
    page.click("#monitors tr[data-id] button.link-button")
    page.wait_for_selector("#monitor-detail:not([hidden])")
    page.click("#spark-toggle")
    eventually(lambda: query(page) == {"monitor": monitor_id, "view": "table"}, lambda: page.url)

    second = fresh()
    second.page.goto(page.url)
    s = second.page
    s.wait_for_selector("#monitor-detail:not([hidden])")
    assert s.get_attribute("#monitor-detail", "data-monitor-id") == monitor_id
    assert s.inner_text("#title-detail").startswith("panel itself")
    assert s.get_attribute("#spark-toggle", "aria-pressed") == "true"
    page.go_back()
    eventually(lambda: page.get_attribute("#spark-toggle", "aria-pressed") == "false", "back did not restore the chart")
    page.go_back()
    eventually(lambda: page.is_hidden("#monitor-detail"), "back did not close the detail")
    first.assert_clean()
    second.assert_clean()


def test_export_form_travels_in_its_link(fresh):
    first = fresh()
    page = first.page
    first.goto("/admin/exports")
    page.select_option("#x-type", "revenue")
    page.select_option("#x-format", "json")
    page.fill("#x-start", "2026-10-01")
    page.dispatch_event("#x-start", "change")
    page.select_option("#x-period", "weekly")
    eventually(lambda: query(page).get("period") == "weekly", lambda: page.url)

    second = fresh()
    second.page.goto(page.url)
    s = second.page
    assert (s.input_value("#x-type"), s.input_value("#x-format"), s.input_value("#x-start"),
            s.input_value("#x-period")) == ("revenue", "json", "2026-10-01", "weekly")
    assert s.is_visible("#x-period")
    page.go_back()
    eventually(lambda: page.input_value("#x-period") == "daily", "back did not restore the buckets")
    assert page.input_value("#x-start") == "2026-10-01"
    first.assert_clean()
    second.assert_clean()
