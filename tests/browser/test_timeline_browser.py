"""The Overview's shared timeline in a real Chromium: drawn with data and an alert window shaded."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

import database
from services.alerts import Alert
from services.ingest import store as ingest
from tests.browser.conftest import SERVER_ENV, Panel, _need_chromium, shot
from tests.servers import start_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

TITLE = "Checkout failures (browser test)"
# Alpha of a pixel at the vertical top of the plot area: inside a shaded band vs just outside it.
PROBE = """id => {
  const chart = window.panel.charts.chartFor(id);
  const band = chart.$shaded.find(b => b.title === %r);
  if (!band) return null;
  const ratio = chart.canvas.width / chart.canvas.clientWidth;
  const ctx = chart.canvas.getContext("2d");
  const y = Math.round((chart.chartArea.top + 3) * ratio);
  const at = (x) => ctx.getImageData(Math.round(x * ratio), y, 1, 1).data[3];
  const mid = (band.left + band.right) / 2;
  const outside = band.left - 20 > chart.chartArea.left ? band.left - 20 : band.right + 20;
  return {width: band.right - band.left, inside: at(mid), outside: at(outside)};
}""" % TITLE

# The hourly revenue answer reaches the page 1.5 s late, as it may on a loaded machine: the
# customers chart is redrawn first, and a test reading the revenue chart then reads the old one.
SLOW_HOURLY_REVENUE = """
const realFetch = window.fetch;
window.fetch = async (...args) => {
  const response = await realFetch(...args);
  const url = String((args[0] && args[0].url) || args[0]);
  if (url.includes("/admin/api/analytics/revenue") && url.includes("period=hourly")) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
  return response;
};
"""


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """This module's demo server: every tick counts as over budget, so the interval is widened."""
    _need_chromium()
    tmp = tmp_path_factory.mktemp("insights")
    env = {**SERVER_ENV, "TICK_BUDGET_SHARE": "0.0001", "TIMER_COST_SAMPLE_EVERY": "2"}
    running = Panel(start_server(tmp, env=env, demo=True, wait=90), tmp)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def crafted(panel):
    """Crafted once per server: see ``craft_alert``."""
    craft_alert(panel)


def craft_alert(panel):
    """A resolved critical alert three to two hours ago, and sales around it, in the server's database."""
    engine = database.make_engine(panel.server.env["DATABASE_URL"])
    now = database.utcnow()
    sales = [{"id": f"browser-{i}", "amount_cents": 1000 + i, "currency": "USD", "status": "completed",
              "customer_id": f"browser-c{i}", "channel": "web",
              "created_at": (now - timedelta(minutes=20 * i + 5)).isoformat()} for i in range(1, 12)]
    try:
        with Session(engine) as session:
            ingest.ingest_batch(session, {"transactions": sales})
            session.add(Alert(rule_name="Checkout failures", metric="failed_payment_rate",
                              severity="critical", status="resolved", title=TITLE, threshold=20.0,
                              value=35.0, started_at=now - timedelta(hours=3),
                              fired_at=now - timedelta(hours=3), last_seen_at=now - timedelta(hours=2),
                              resolved_at=now - timedelta(hours=2)))
            session.commit()
    finally:
        engine.dispose()


def test_timeline_renders_with_a_shaded_alert_window(watched, crafted):
    page = watched.page
    watched.goto("/admin/dashboard")
    page.wait_for_function("() => document.querySelector('[data-chart=timeline]').dataset.state === 'ready'")
    labels = page.evaluate("() => window.panel.charts.chartFor('timeline').data.labels.length")
    assert labels == 96  # 24 hours of 15-minute buckets
    series = page.evaluate("""() => window.panel.charts.chartFor('timeline').data.datasets
        .map(ds => ds.data.filter(v => v !== null && v !== undefined).length)""")
    assert len(series) == 4 and all(n == 96 for n in series[:1]), series
    assert series[3] > 0, "no p95 point on the timeline"  # the demo's requests were timed
    # The chart draws the API's revenue (cents → currency units): the answer the page itself got,
    # since the demo's sales change the next answer (and the page reloads now and then).
    api = watched.drawn_answer("timeline", "/admin/api/timeline", match=lambda answer, data: [
        round(v * 100) for v in data[0]] == [b["revenue_cents"] for b in answer["buckets"]])
    assert "tz=Europe%2FBerlin" in api["url"]
    assert sum(b["revenue_cents"] for b in api["buckets"]) >= sum(1000 + i for i in range(1, 12))

    probe = page.evaluate(PROBE, "timeline")
    assert probe is not None, "the crafted alert window was not drawn"
    # One hour of a 24-hour axis: about a 24th of the plot's width.
    plot = page.evaluate("() => { const a = window.panel.charts.chartFor('timeline').chartArea; return a.right - a.left; }")
    assert 0.03 * plot < probe["width"] < 0.055 * plot
    assert probe["inside"] > probe["outside"], probe

    row = page.locator("#timeline-alerts tbody tr", has_text=TITLE)
    assert row.count() == 1
    assert "still open" not in row.inner_text()
    page.locator('[data-chart="timeline"]').scroll_into_view_if_needed()
    shot(page, "overview-timeline")
    watched.assert_clean()


def test_revenue_page_shows_customers_and_channels(watched, crafted):
    page = watched.page
    page.add_init_script(SLOW_HOURLY_REVENUE)
    watched.goto("/admin/revenue")
    page.wait_for_function("() => document.querySelector('[data-chart=customers]').dataset.state === 'ready'")
    page.wait_for_function("() => document.querySelector('[data-chart=channels]').dataset.state === 'ready'")
    channels = page.locator("#channel-table tbody tr")
    assert channels.count() >= 1
    assert "web" in page.locator("#channel-table tbody").inner_text()
    assert page.locator('[data-card="customers"]').get_attribute("data-state") == "ready"
    page.click(".definitions summary")
    assert "first transaction ever" in page.locator(".definitions").inner_text()
    daily = watched.drawn_answer("customers", "/admin/api/analytics/customers", period="daily")
    page.click('.period[data-period="hourly"]')
    # The click sends one request per section; each chart changes when its own answer arrives, so
    # wait for both charts to draw their hourly answers before comparing them.
    customers = watched.drawn_answer("customers", "/admin/api/analytics/customers", period="hourly")
    revenue = watched.drawn_answer("revenue", "/admin/api/analytics/revenue", period="hourly")
    hourly = len(customers["buckets"])
    assert hourly == len(revenue["buckets"]) and hourly != len(daily["buckets"])
    labels = page.evaluate("() => ['customers', 'revenue'].map(id => window.panel.charts.chartFor(id).data.labels.length)")
    assert labels == [hourly, hourly]
    page.locator("#customers-section").scroll_into_view_if_needed()
    shot(page, "revenue-customers-channels")
    watched.assert_clean()


def test_performance_page_shows_the_monitors_cost_and_the_widened_interval(watched, panel):
    page = watched.page
    watched.goto("/admin/performance")
    page.wait_for_function("() => document.getElementById('self-cost').dataset.state === 'ready'")
    banner = page.locator("#self-cost-banner")
    banner.wait_for(state="visible")
    assert "instead of falling behind" in banner.inner_text()
    assert page.locator("#self-cost").get_attribute("data-widened") == "true"
    assert "MB" in page.locator('[data-cost="rss"]').inner_text()
    assert "ms" in page.locator('[data-cost="tick"]').inner_text()
    # This page's own socket is one of them ("1 (1 user) · at most 20 per user"); the figure
    # refreshes every 10 s, in case the first answer came before the socket connected.
    page.wait_for_function("() => /^[1-9]\\d* \\(\\d+ users?\\) · at most \\d+ per user/"
                           ".test(document.querySelector('[data-cost=sockets]').textContent)",
                           timeout=15000)
    page.reload()  # more requests, so some have their timer cost sampled (1 in 2 here)
    page.wait_for_function("() => document.querySelector('[data-cost=timer]').textContent.includes('µs')")
    health = page.evaluate("async () => (await fetch('/admin/api/health')).json()")
    assert health["checks"]["self_cost"]["status"] == "degraded"
    page.locator("#self-cost").scroll_into_view_if_needed()
    shot(page, "performance-self-cost")
    watched.assert_clean()
