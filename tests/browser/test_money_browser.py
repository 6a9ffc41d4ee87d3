"""Money, orders, ranges and windows in a real Chromium, against figures counted by hand.

A plain server (no demo traffic) receives a known set of payments in three currencies, with
completed, pending, failed and refunded ones; the pages must show exactly those figures, in the
currency the admin picked, kept across a reload. Every wait names the very thing asserted next.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy.orm import Session

import database
from services.monitor import RequestStat
from services.monitor import histogram
from tests.browser.conftest import SERVER_ENV, Panel, _need_chromium
from tests.servers import start_server
from tests.helpers import transaction

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

BERLIN = ZoneInfo("Europe/Berlin")    # the browser's zone (the `watched` fixture)
KEY = SERVER_ENV["INGEST_API_KEY"]
CARD = """key => { const c = document.querySelector(`[data-card="${key}"]`);
  const text = (sel) => (c.querySelector(sel) || {}).textContent ?? "";
  return {state: c.dataset.state, currency: c.dataset.currency || null,
          value: c.querySelector(".metric-value").dataset.value ?? null,
          text: text(".metric-value"), window: text(".metric-window"),
          trend: text(".trend-text"), extra: text(".metric-extra")}; }"""
# What a card says it covers ("" when it says nothing).
WINDOW = "c => (c.querySelector('.metric-window') || {}).textContent || ''"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """A server without demo traffic: only the payments below exist."""
    _need_chromium()
    tmp = tmp_path_factory.mktemp("money")
    running = Panel(start_server(tmp, env=SERVER_ENV, demo=False), tmp)
    yield running
    running.stop()


def _tx(tid, at, amount, currency, status="completed"):
    return transaction(tid, amount, status=status, currency=currency, at=at, channel="web")


@pytest.fixture(scope="module")
def payments(panel):
    """Today (in Berlin): USD 10.00 + 25.00 + 40.00 from 3 orders, GBP 50.00 from 1, EUR 20.00 +
    12.00 from 2, plus 2 pending, 400 failed and 1 refunded USD payments and 5 failed and 1
    refunded EUR ones, none of which is an order. Yesterday until the same time: USD 30.00 +
    30.00 (2 orders) and EUR 10.00 (1). A minute before midnight: USD 30.00 (outside both)."""
    now = datetime.now(BERLIN)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    at = midnight + (now - midnight) / 2              # certainly today, certainly before now
    day = timedelta(days=1)
    sent = [
        _tx("u1", at, 1000, "USD"), _tx("u2", at, 2500, "USD"), _tx("u3", at, 4000, "USD"),
        *[_tx(f"up{i}", at, 900, "USD", "pending") for i in range(2)],
        *[_tx(f"uf{i}", at, 1500, "USD", "failed") for i in range(400)],
        _tx("ur", at, 3000, "USD", "refunded"),
        _tx("g1", at, 5000, "GBP"),
        _tx("e1", at, 2000, "EUR"), _tx("e2", at, 1200, "EUR"),
        *[_tx(f"ef{i}", at, 700, "EUR", "failed") for i in range(5)],
        _tx("er", at, 800, "EUR", "refunded"),
        _tx("y1", at - day, 3000, "USD"), _tx("y2", at - day, 3000, "USD"), _tx("ye", at - day, 1000, "EUR"),
        _tx("late", midnight - timedelta(minutes=1), 3000, "USD"),
    ]
    resp = requests.post(f"{panel.url}/api/v1/events", json={"transactions": sent}, timeout=30,
                         headers={"Authorization": f"Bearer {KEY}"})
    assert resp.status_code == 202, resp.text
    return {"today": midnight.date()}


def wait_for(page, js: str, arg=None, timeout: float = 15_000) -> None:
    """Wait for ``js`` to hold; on a timeout, fail saying what the cards and panels showed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(js, arg=arg, timeout=timeout)
    except PlaywrightTimeout:
        shown = page.evaluate("""() => ({
          cards: [...document.querySelectorAll('[data-card]')].map(c => c.innerText.replace(/\\s+/g, ' ')),
          panels: Object.fromEntries([...document.querySelectorAll('[data-chart]')].map(p => [p.dataset.chart, p.dataset.state])),
          error: (document.getElementById('range-error') || {}).textContent})""")
        pytest.fail(f"timed out waiting for {js!r} ({arg!r}); the page showed {shown}")


def card(page, key):
    return page.evaluate(CARD, key)


def test_overview_cards_count_orders_by_hand_in_the_picked_currency(watched, payments):
    page = watched.page
    watched.goto("/admin/dashboard")
    ready = """([key, code]) => { const c = document.querySelector(`[data-card="${key}"]`);
      return c.dataset.state === "ready" && (!code || c.dataset.currency === code); }"""
    wait_for(page, ready, ["revenue", None])
    wait_for(page, ready, ["orders", None])
    revenue, orders = card(page, "revenue"), card(page, "orders")
    # Orders: completed payments of every currency; 400 failed ones add none.
    assert (orders["value"], orders["text"]) == ("6", "6")
    # Default: the currency with the most revenue today, named on the card.
    assert revenue["currency"] == "USD" and revenue["value"] == "7500"
    assert "75.00" in revenue["text"] and "USD" in revenue["window"]
    # The other currencies beside it, each in its own money, never added in.
    assert "50.00 GBP" in revenue["extra"] and "32.00 EUR" in revenue["extra"]
    assert revenue["trend"] == "+25.0 % vs same time yesterday"       # 75.00 against 60.00
    assert "all currencies" in orders["window"]
    assert orders["trend"] == "+100.0 % vs same time yesterday"       # 6 against 3

    # The admin picks EUR: the card shows euros, the others beside them.
    page.select_option("#currency-picker", "EUR")
    wait_for(page, ready, ["revenue", "EUR"])
    revenue = card(page, "revenue")
    assert revenue["value"] == "3200" and "32.00" in revenue["text"] and "EUR" in revenue["window"]
    assert "75.00 USD" in revenue["extra"] and "50.00 GBP" in revenue["extra"]
    assert card(page, "orders")["value"] == "6"                       # counts do not change
    assert "currency=EUR" in page.url

    # Kept across a reload (the page starts from the stored choice, not the default) ...
    page.goto(page.url.split("?")[0])
    wait_for(page, ready, ["revenue", None])
    assert card(page, "revenue")["currency"] == "EUR"
    assert page.input_value("#currency-picker") == "EUR"
    # ... and shared with the Revenue page.
    watched.goto("/admin/revenue")
    wait_for(page, "() => document.querySelector('[data-chart=revenue]').dataset.state === 'ready'")
    assert page.get_attribute("[data-chart=revenue]", "data-currency") == "EUR"
    assert page.input_value("#currency-picker") == "EUR"
    # The default fortnight: USD 75.00 today, 60.00 yesterday, 30.00 a minute before midnight.
    assert "EUR" in card(page, "total")["window"] and "165.00 USD" in card(page, "total")["extra"]
    watched.assert_clean()


def _source(page):
    query = parse_qs(urlparse(page.get_attribute("[data-chart=revenue]", "data-source")).query)
    return {k: v[0] for k, v in query.items()}


def _apply(page, start, end):
    """Fill the range and press Apply; returns the chart's source before, to wait for a new one."""
    before = page.get_attribute("[data-chart=revenue]", "data-source")
    page.fill("#range-start", start.isoformat())
    page.fill("#range-end", end.isoformat())
    page.click("#range-form button[type=submit]")
    return before


NEW_SOURCE = """before => { const p = document.querySelector('[data-chart=revenue]');
  return p.dataset.source !== before && p.dataset.state === 'ready'; }"""


def test_revenue_ranges_growth_periods_and_a_refused_range(watched, panel, payments):
    page = watched.page
    today = payments["today"]
    watched.goto("/admin/revenue")
    wait_for(page, "() => document.querySelector('[data-chart=revenue]').dataset.state === 'ready'")

    # Today alone: asked up to now, not tomorrow's midnight; growth is the API's for that range.
    wait_for(page, NEW_SOURCE, _apply(page, today, today))
    asked = _source(page)
    assert datetime.fromisoformat(asked["end"].replace("Z", "+00:00")) <= datetime.now(BERLIN)
    body = page.request.get(f"{panel.url}{page.get_attribute('[data-chart=revenue]', 'data-source')}").json()
    growth = body["summary"]["growth_rate"]
    assert growth is not None and body["summary"]["previous_total_cents"] > 0
    total = card(page, "total")
    sign = "+" if growth >= 0 else "−"
    assert total["trend"].startswith(f"{sign}{abs(growth) * 100:.1f} % vs ")
    assert (card(page, "orders")["value"], card(page, "orders")["extra"]) == ("3", "of 406 payments in USD (every status)")

    # Two weeks: nothing was earned in the two weeks before, so there is no growth to show.
    two_weeks = today - timedelta(days=13)
    wait_for(page, NEW_SOURCE, _apply(page, two_weeks, today))
    total = card(page, "total")
    assert total["value"] == str(7500 + 6000 + 3000)          # today, yesterday, a minute before midnight
    assert total["trend"].startswith("— vs "), total          # not the previous range's figure

    # Hourly keeps the picked range: the same start and end are asked in hours.
    page.click("button[data-period=hourly]")
    wait_for(page, "() => { const p = document.querySelector('[data-chart=revenue]');"
                   " return p.dataset.period === 'hourly' && p.dataset.state === 'ready'; }")
    assert page.input_value("#range-start") == two_weeks.isoformat()
    assert page.input_value("#range-end") == today.isoformat()
    hourly = _source(page)
    assert (hourly["period"], hourly["start"]) == ("hourly", _source_start(two_weeks))
    assert int(page.get_attribute("[data-chart=revenue]", "data-buckets")) >= 13 * 24

    # "To" before "From": an inline error, and nothing is asked.
    wrong_from = today
    asked_before = len(watched.requests)
    page.fill("#range-start", wrong_from.isoformat())
    page.fill("#range-end", (today - timedelta(days=3)).isoformat())
    page.click("#range-form button[type=submit]")
    error = page.locator("#range-error")
    error.wait_for(state="visible")
    assert "before" in error.inner_text() and "From" in error.inner_text()
    assert page.get_attribute("#range-end", "aria-invalid") == "true"
    # A right range afterwards is asked for; no request before it carried the wrong dates.
    wait_for(page, NEW_SOURCE, _apply(page, today - timedelta(days=3), today))
    assert error.is_hidden()
    wrong_start = _source_start(wrong_from)
    after = [u for u in watched.requests[asked_before:] if "/admin/api/analytics/" in u]
    assert after and not [u for u in after if parse_qs(urlparse(u).query).get("start") == [wrong_start]]
    watched.assert_clean()


def _source_start(day):
    """The ISO instant the page sends for a From date: local midnight, in UTC with milliseconds."""
    local = datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(ZoneInfo("UTC"))
    return local.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture(scope="module")
def old_requests(panel):
    """600 requests (6 of them 5xx) three hours ago, so the 24-hour window differs from the
    last hour's, written the way the request timer flushes them."""
    minute = database.utcnow().replace(second=0, microsecond=0) - timedelta(hours=3)
    hist: dict = {}
    for ms in (20.0, 40.0, 400.0):
        index = str(histogram.bucket_index(ms))
        hist[index] = hist.get(index, 0) + 200
    engine = database.make_engine(panel.server.env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            session.add(RequestStat(minute=minute, endpoint="/shop/checkout", method="POST", label="app",
                                    count=600, errors=6, total_ms=600 * 153.3, max_ms=400.0,
                                    db_queries=0, db_ms=0.0, buckets=hist))
            session.commit()
    finally:
        engine.dispose()
    return minute


def test_performance_cards_follow_the_window_and_equal_the_table(watched, old_requests):
    page = watched.page
    watched.goto("/admin/performance")
    cards = ["rpm", "avg", "p95", "error_rate"]
    windowed = f"""([keys, text]) => keys.every(k => {{ const c = document.querySelector(`[data-card="${{k}}"]`);
      return c.dataset.state !== 'loading' && ({WINDOW})(c) === text; }})"""
    wait_for(page, windowed, [cards, "last 1 hour"])
    page.select_option("#perf-minutes", "1440")
    wait_for(page, windowed, [cards, "last 24 hours"])
    # Read at once (the page re-reads every 30 s): the cards, the footer row and the rows.
    shown = page.evaluate(f"""() => ({{
      cards: Object.fromEntries(["rpm", "error_rate"].map(k => [k, ({CARD})(k)])),
      foot: Object.fromEntries([...document.querySelectorAll('#endpoints tfoot td')]
        .map(td => [td.dataset.key, td.textContent])),
      rows: [...document.querySelectorAll('#endpoints tbody tr')].map(tr =>
        Number(tr.children[2].textContent.replace(/[^0-9]/g, '')))}})""")
    cards_shown, foot, rows = shown["cards"], shown["foot"], shown["rows"]
    # The cards are the table's "All endpoints" row: one answer, one window.
    assert cards_shown["rpm"]["text"] == foot["rpm"]
    assert sum(rows) == int(foot["count"].replace(",", ""))
    rpm = float(cards_shown["rpm"]["value"])
    assert rpm == pytest.approx(sum(rows) / 1440, abs=0.01)      # 600+ requests over a day (2 places)
    assert sum(rows) >= 600
    assert float(cards_shown["error_rate"]["value"]) == pytest.approx(6 / sum(rows), abs=1e-4)

    # The latency table names each minute and starts at the first minute with requests.
    page.click("button.table-toggle[data-target=latency]")
    page.locator("#table-latency tbody tr").first.wait_for()
    expected = page.evaluate("""iso => { const d = new Date(iso);
      return new Intl.DateTimeFormat(undefined, {hour: '2-digit', minute: '2-digit'}).format(d); }""",
                             old_requests.isoformat())
    table = page.evaluate("() => [...document.querySelectorAll('#table-latency tbody tr')].map(tr => tr.innerText)")
    assert table[0].startswith("No requests before") and expected in table[0], table[:2]
    assert expected in table[1].split("\t")[0]                 # the first row is that minute
    assert len(table) <= 3 * 60 + 5, f"{len(table)} rows: the empty minutes of the day are listed"
    watched.assert_clean()


@pytest.mark.parametrize("path", ["dashboard", "revenue", "performance", "activity"])
def test_every_card_states_what_it_covers(watched, payments, path):
    page = watched.page
    watched.goto(f"/admin/{path}")
    settled = "() => [...document.querySelectorAll('[data-card]')].every(c => c.dataset.state !== 'loading')"
    wait_for(page, settled)
    missing = page.evaluate(f"""() => [...document.querySelectorAll('[data-card]')]
      .filter(c => !({WINDOW})(c).trim()).map(c => c.dataset.card)""")
    assert not missing, f"cards without a window on {path}: {missing}"
    if path == "dashboard":
        assert card(page, "active_users")["window"] == "last 5 min"
    if path == "activity":
        assert card(page, "active_users")["window"] == "last 30 min"
        page.select_option("#activity-minutes", "1440")
        wait_for(page, "() => document.querySelector('[data-card=active_users] .metric-window').textContent === 'last 24 hours'")
        assert card(page, "actions")["window"] == "last 24 hours"
    watched.assert_clean()
