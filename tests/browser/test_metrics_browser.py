"""The Metrics page in Chromium: points pushed through the ingest API are found in the
catalogue, charted with exactly their values (read through "Show as table"), and a point
pushed later appears without reloading the page (the socket's "metrics" event)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.browser.conftest import INGEST_KEY, eventually, plain_panel, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

NAME = "checkout_queue_depth"
CELLS = """() => [...document.querySelectorAll('#table-metric tbody tr')]
  .filter(r => r.querySelector('th')).map(r => [...r.querySelectorAll('td')].map(td => td.textContent))"""


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    yield from plain_panel(tmp_path_factory, "metrics")


def push(base_url: str, points: list[dict]) -> None:
    resp = requests.post(f"{base_url}/api/v1/metrics", timeout=10, json={"metrics": points},
                         headers={"Authorization": f"Bearer {INGEST_KEY}"})
    assert resp.status_code == 202, resp.text


def test_a_pushed_series_is_charted_with_its_values_and_new_points_arrive_live(watched):
    page = watched.page
    now = datetime.now(timezone.utc).replace(microsecond=0)
    values = [12.0, 17.5, 9.25]
    # Minutes apart: with the 1-hour range's automatic step each point is a row of its own.
    push(watched.base_url, [
        {"name": NAME, "value": v, "labels": {"queue": "payments"}, "unit": "jobs",
         "timestamp": (now - timedelta(minutes=10 - 2 * i)).isoformat()} for i, v in enumerate(values)])
    # Another series of the same name, filtered away by the label matcher below.
    push(watched.base_url, [{"name": NAME, "value": 999, "labels": {"queue": "mail"}}])

    watched.goto("/admin/metrics")
    page.fill("#metric-search", "checkout_queue")
    # The search keeps the two series of the name (the panel's own metrics are listed without one).
    rows = page.locator("#catalog tbody tr")
    eventually(lambda: rows.count() == 2 and all(NAME in t for t in rows.all_inner_texts()),
               lambda: f"catalogue rows: {rows.all_inner_texts()[:5]}")
    page.select_option("#metric-name", NAME)
    page.fill("#metric-match", 'queue="payments"')
    page.click("#metric-form button[type=submit]")
    page.click(".table-toggle[data-target=metric]")
    assert page.locator(".table-toggle[data-target=metric]").inner_text() == "Show as chart"

    expected = [[str(v).removesuffix(".0")] for v in values]
    eventually(lambda: page.evaluate(CELLS) == expected,
               lambda: f"table holds {page.evaluate(CELLS)}, pushed {expected}")
    header = page.locator("#table-metric thead th").all_inner_texts()
    assert header == ["Time", f'{NAME}{{queue="payments"}}']
    shot(page, "metrics-table")

    page.evaluate("window.__sameDocument = true")
    push(watched.base_url, [{"name": NAME, "value": 21, "labels": {"queue": "payments"}}])
    expected.append(["21"])
    eventually(lambda: page.evaluate(CELLS) == expected,
               lambda: f"after a live push the table holds {page.evaluate(CELLS)}, expected {expected}",
               timeout=15)
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"

    page.click(".table-toggle[data-target=metric]")
    drawn = page.evaluate("() => window.panel.charts.chartFor('metric').data.datasets.map(d => d.data.filter(v => v !== null))")
    assert drawn == [values + [21]]
    shot(page, "metrics")
    watched.assert_clean()
