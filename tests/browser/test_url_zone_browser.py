"""A link's time zone is applied, in a real Chromium: a Revenue link made in New York and opened
in a Berlin browser shows New York's days (the API's answer for that zone), and says so; an
unknown zone falls back to the browser's and the page says that too."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.browser.conftest import CSP_PROBE, DESKTOP, SERVER_ENV, Watched, eventually, plain_panel
from tests.helpers import transaction

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
KEY = SERVER_ENV["INGEST_API_KEY"]
API = "/admin/api/analytics/revenue"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    yield from plain_panel(tmp_path_factory, "urlzone")


@pytest.fixture(scope="module")
def payments(panel):
    """USD 11.11 at 02:00 UTC on Oct 20 (Oct 20 in Berlin, Oct 19 in New York) and USD 22.22 at
    01:00 UTC on Oct 21 (Oct 21 in Berlin, Oct 20 in New York)."""
    sent = [transaction("berlin-day", 1111, currency="USD", at=datetime(2026, 10, 20, 2, tzinfo=timezone.utc)),
            transaction("ny-day", 2222, currency="USD", at=datetime(2026, 10, 21, 1, tzinfo=timezone.utc))]
    resp = requests.post(f"{panel.url}/api/v1/events", json={"transactions": sent}, timeout=30,
                         headers={"Authorization": f"Bearer {KEY}"})
    assert resp.status_code == 202, resp.text


@pytest.fixture
def berlin(chromium, login_state, panel):
    """A browser context in Berlin (same login)."""
    context = chromium.new_context(viewport=DESKTOP, storage_state=login_state, timezone_id="Europe/Berlin")
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield Watched(page, panel.url)
    context.close()


def api_total(watched, zone: str, start: str, end: str) -> int:
    """The API's own total for a range, asked with the browser's login."""
    resp = watched.page.request.get(f"{watched.base_url}{API}", params={
        "period": "daily", "start": start, "end": end, "tz": zone, "currency": "USD"})
    assert resp.ok, resp.text()
    return resp.json()["summary"]["total_cents"]


def test_revenue_link_reads_days_in_its_zone(berlin, payments):
    berlin.goto("/admin/revenue?start=2026-10-20&end=2026-10-20&period=daily&tz=America/New_York&currency=USD")
    asked = berlin.drawn_answer("revenue", API, period="daily")
    query = {k: v[0] for k, v in parse_qs(urlparse(asked["url"]).query).items()}
    # Oct 20 in New York: 04:00 UTC to 04:00 UTC the next day.
    assert query["tz"] == "America/New_York"
    assert datetime.fromisoformat(query["start"].replace("Z", "+00:00")) == datetime(2026, 10, 20, 4, tzinfo=timezone.utc)
    new_york = api_total(berlin, "America/New_York", "2026-10-20T04:00:00Z", "2026-10-21T04:00:00Z")
    in_berlin = api_total(berlin, "Europe/Berlin", "2026-10-19T22:00:00Z", "2026-10-20T22:00:00Z")
    assert (new_york, in_berlin) == (2222, 1111)
    assert asked["summary"]["total_cents"] == new_york
    eventually(lambda: "22.22" in berlin.page.inner_text('[data-card="total"] .metric-value'),
               lambda: berlin.page.inner_text('[data-card="total"]'))
    note = berlin.page.inner_text("#tz-note")
    assert "America/New_York" in note and "Europe/Berlin" in note
    assert parse_qs(urlparse(berlin.page.url).query)["tz"] == ["America/New_York"]  # the link keeps it
    berlin.assert_clean()


def test_unknown_zone_falls_back_and_says_so(berlin, payments):
    berlin.goto("/admin/revenue?start=2026-10-20&end=2026-10-20&period=daily&tz=Mars/Olympus&currency=USD")
    asked = berlin.drawn_answer("revenue", API, period="daily")
    assert parse_qs(urlparse(asked["url"]).query)["tz"] == ["Europe/Berlin"]
    assert asked["summary"]["total_cents"] == 1111
    note = berlin.page.inner_text("#tz-note")
    assert "Unknown time zone" in note and "Mars/Olympus" in note and "Europe/Berlin" in note
    berlin.assert_clean()
