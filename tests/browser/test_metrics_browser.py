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


TWO = ("checkout_latency_ms", "checkout_retries")
COLUMNS = """() => { const rows = [...document.querySelectorAll('#table-metric tbody tr')].filter(r => r.querySelector('th'));
  const heads = [...document.querySelectorAll('#table-metric thead th')].slice(1).map(th => th.textContent);
  return Object.fromEntries(heads.map((h, j) => [h, rows.map(r => r.querySelectorAll('td')[j].textContent).filter(t => t !== '—')]));
}"""
FROM_API = """async ([names, agg]) => { const end = new Date(); const start = new Date(end.getTime() - 3600e3);
  const out = {};
  for (const name of names) {
    const q = new URLSearchParams({name, agg, step: '', match: '', start: start.toISOString(), end: end.toISOString()});
    const body = await (await fetch('/admin/api/metrics/query?' + q)).json();
    for (const s of body.series) out[name] = s.points.map(p => String(Number(p[1].toPrecision(12))));
  }
  return out; }"""


def test_two_pushed_series_share_one_time_axis_and_the_table_equals_the_query_api(watched):
    page = watched.page
    now = datetime.now(timezone.utc).replace(microsecond=0)
    # Latency every 2 minutes, then silent for 20 minutes (a gap); retries twice, far apart.
    push(watched.base_url, [{"name": TWO[0], "value": 100 + 7 * i, "unit": "ms",
                             "timestamp": (now - timedelta(minutes=40 - 2 * i)).isoformat()} for i, _ in enumerate(range(6))])
    push(watched.base_url, [{"name": TWO[0], "value": 250.5, "timestamp": (now - timedelta(minutes=5)).isoformat()}])
    push(watched.base_url, [{"name": TWO[1], "value": v, "timestamp": (now - timedelta(minutes=m)).isoformat()}
                            for v, m in ((3, 35), (8, 6))])
    watched.goto("/admin/metrics")
    page.fill("#metric-search", "checkout_")
    eventually(lambda: set(TWO) <= set(page.locator("#metric-name option").all_inner_texts()),
               lambda: f"names offered: {page.locator('#metric-name option').all_inner_texts()}")
    page.select_option("#metric-name", TWO[0])
    page.click("#metric-add")
    page.select_option("#metric-name", TWO[1])
    page.select_option("#metric-agg", "max")
    page.click("#metric-form button[type=submit]")
    assert page.locator("#metric-pinned li").all_inner_texts()[0].startswith(f"avg({TWO[0]})")
    page.click(".table-toggle[data-target=metric]")

    def table_equals_api():
        api = page.evaluate(FROM_API, [[TWO[0]], "avg"]) | page.evaluate(FROM_API, [[TWO[1]], "max"])
        shown = page.evaluate(COLUMNS)
        return shown == {TWO[0]: api[TWO[0]], f"max {TWO[1]}": api[TWO[1]]} and len(api[TWO[0]]) == 7

    eventually(table_equals_api, lambda: f"table {page.evaluate(COLUMNS)}")
    # One chart, a line per query, x in milliseconds since 1970 (time-proportional), gaps not spanned.
    info = page.evaluate("""() => { const c = window.panel.charts.chartFor('metric');
      return {type: c.scales.x.type, labels: c.data.datasets.map(d => d.label), spans: c.data.datasets.map(d => d.spanGaps),
              first: c.data.labels[0]}; }""")
    assert info["type"] == "linear" and info["labels"] == [TWO[0], f"max {TWO[1]}"]
    assert abs(info["first"] / 1000 - (now - timedelta(minutes=40)).timestamp()) < 120
    assert all(0 < s < 20 * 60 * 1000 for s in info["spans"])  # a 20-minute silence stays a gap

    push(watched.base_url, [{"name": TWO[1], "value": 13}])
    eventually(lambda: page.evaluate(COLUMNS).get(f"max {TWO[1]}", [])[-1:] == ["13"] and table_equals_api(),
               lambda: f"after a live push: {page.evaluate(COLUMNS)}", timeout=15)
    shot(page, "metrics-two-series")
    watched.assert_clean()
