"""Explore in a real Chromium: a revenue bar opens the rows behind it (they add up to the bar),
customer and order pages, links from the tables, and the drill-down's export."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.browser.conftest import SERVER_ENV, eventually, plain_panel, shot
from tests.helpers import transaction

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

BERLIN = ZoneInfo("Europe/Berlin")  # the browser's zone (the `watched` fixture)
KEY = SERVER_ENV["INGEST_API_KEY"]
BAR = """i => { const c = window.panel.charts.chartFor("revenue"); const el = c.getDatasetMeta(0).data[i];
  const box = c.canvas.getBoundingClientRect();
  return {x: box.left + el.x, y: box.top + (el.y + el.base) / 2, value: c.data.datasets[0].data[i]}; }"""


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """A server without demo traffic: only the payments below exist."""
    yield from plain_panel(tmp_path_factory, "explore")


PRODUCTS = [{"sku": "MUG-RED", "name": "Red mug"}, {"sku": "MUG-BLUE", "name": "Blue mug"}]
LINES = [{"sku": "MUG-RED", "quantity": 2, "amount_cents": 3000}, {"sku": "GONE-1", "quantity": 1, "amount_cents": 2000}]


@pytest.fixture(scope="module")
def shop(panel):
    """Three days ago (Berlin): EUR and USD payments of two customers, completed and not; one
    order moved from pending to completed."""
    day = datetime.now(BERLIN).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    txs = [transaction(f"b{i}", 1000 + 111 * i, currency=("EUR", "USD")[i % 2],
                       status=("completed", "completed", "failed")[i % 3], customer_id=f"cust-{i % 2}",
                       at=(day + timedelta(minutes=7 * i)).isoformat(), channel="web") for i in range(12)]
    txs.append(transaction("late", 5000, status="pending", currency="EUR", customer_id="cust-0",
                           at=day.isoformat(), items=LINES))
    sent = requests.post(f"{panel.url}/api/v1/events", json={"transactions": txs, "products": PRODUCTS},
                         headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert sent.status_code == 202, sent.text
    later = transaction("late", 5000, status="completed", currency="EUR", customer_id="cust-0",
                        at=day.isoformat(), updated_at=(day + timedelta(hours=1)).isoformat())
    assert requests.post(f"{panel.url}/api/v1/events", json={"transactions": [later]},
                         headers={"Authorization": f"Bearer {KEY}"}, timeout=10).status_code == 202
    return {"day": day, "txs": txs[:-1] + [later]}


def test_a_revenue_bar_opens_the_rows_that_add_up_to_it(watched, shop):
    page = watched.page
    watched.goto("/admin/revenue?currency=EUR")
    answer = watched.drawn_answer("revenue", "/admin/api/analytics/revenue", currency="EUR")
    index = next(i for i, b in enumerate(answer["buckets"]) if b["revenue_cents"])
    bucket = answer["buckets"][index]
    spot = page.evaluate(BAR, index)
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_url("**/admin/explore?**")
    eventually(lambda: page.locator("#explore-table tbody tr[data-row]").count() == bucket["completed"],
               lambda: f"rows shown: {page.locator('#explore-table tbody tr').count()}, bar: {bucket}")
    cents = page.eval_on_selector_all("#explore-table tbody tr[data-row]", "rows => rows.map(r => Number(r.dataset.cents))")
    assert sum(cents) == bucket["revenue_cents"]
    expected = sorted(t["id"] for t in shop["txs"] if t["currency"] == "EUR" and t["status"] == "completed")
    shown = page.eval_on_selector_all("#explore-table tbody tr[data-row]", "rows => rows.map(r => r.dataset.row)")
    assert sorted(shown) == expected
    assert "EUR" in page.inner_text("#explore-totals")
    with page.expect_download() as download:
        page.click("#explore-export")
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert sorted(line.split(",")[0] for line in text.splitlines()[1:]) == expected
    shot(page, "explore-desktop")
    # Each transaction id links to its order page: the status history is there.
    page.click("#explore-table a[href='/admin/orders/late']")
    page.wait_for_url("**/admin/orders/late")
    eventually(lambda: page.locator("#o-history tbody tr").count() == 2, "order history not drawn")
    assert page.eval_on_selector_all("#o-history tbody .pill", "p => p.map(x => x.textContent)") == ["pending", "completed"]
    cells = page.eval_on_selector_all("#o-items tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    assert [c[:3] for c in cells] == [["MUG-RED", "Red mug", "2"], ["GONE-1", "unknown product", "1"]]
    assert "30.00" in cells[0][3] and "20.00" in cells[1][3]
    page.click("#o-customer a")
    page.wait_for_url("**/admin/customers/cust-0")
    mine = [t for t in shop["txs"] if t["customer_id"] == "cust-0"]
    eventually(lambda: page.locator("#c-tx tbody tr[data-id]").count() == len(mine), "customer rows")
    assert page.inner_text("#c-orders") == str(sum(t["status"] == "completed" for t in mine))
    watched.assert_clean()


def test_search_box_finds_groups_and_opens_hits_with_the_keyboard(watched, shop):
    page = watched.page
    watched.goto("/admin/performance")
    page.fill("#top-search-q", "b1")
    eventually(lambda: page.locator("#top-search-results a[data-kind=orders]").count() == 3, "no order hits")
    titles = page.eval_on_selector_all("#top-search-results a[data-kind=orders]", "a => a.map(x => x.firstChild.textContent)")
    assert titles == ["b1", "b10", "b11"]
    page.fill("#top-search-q", "cust-")
    eventually(lambda: page.locator("#top-search-results a[data-kind=customers]").count() == 2, "no customer hits")
    assert page.eval_on_selector_all("#top-search-results h3", "h => h.map(x => x.textContent)") == ["Customers"]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#top-search-results a[aria-selected=true]", "href") == "/admin/customers/cust-1"
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/customers/cust-1")
    eventually(lambda: page.locator("#c-tx tbody tr[data-id]").count() == 6, "customer page rows")
    # A SKU prefix finds the products; a hit opens the Products page filtered to that SKU.
    page.fill("#top-search-q", "MUG-")
    eventually(lambda: page.locator("#top-search-results a[data-kind=products]").count() == 2, "no product hits")
    hrefs = page.eval_on_selector_all("#top-search-results a[data-kind=products]", "a => a.map(x => x.getAttribute('href'))")
    assert hrefs == ["/admin/products?q=MUG-BLUE", "/admin/products?q=MUG-RED"]
    page.click("#top-search-results a[data-kind=products]")
    page.wait_for_url("**/admin/products?q=MUG-BLUE")
    assert page.input_value("#product-q") == "MUG-BLUE"
    skus = "rows => rows.map(r => r.cells[1] && r.cells[1].textContent)"
    eventually(lambda: page.eval_on_selector_all("#products-table tbody tr", skus) == ["MUG-BLUE"], "products not filtered")
    watched.assert_clean()


def test_the_overlay_draws_the_apis_comparison_and_marks_the_running_bucket(watched, shop):
    page = watched.page
    watched.goto("/admin/revenue?currency=EUR&compare=previous")

    def overlay_drawn(answer, data):
        cmp = answer.get("compare")
        return cmp and len(data) == 2 and data[1] == [b["revenue_cents"] / 100 for b in cmp["buckets"]][:len(data[0])]

    answer = watched.drawn_answer("revenue", "/admin/api/analytics/revenue", match=overlay_drawn, compare="previous")
    assert answer["compare"]["kind"] == "previous" and answer["compare"]["current_bucket"] == len(answer["buckets"]) - 1
    labels = page.evaluate("() => window.panel.charts.chartFor('revenue').data.labels")
    assert labels[-1].endswith("(so far)") and not any(label.endswith("(so far)") for label in labels[:-1])
    # The orders chart names the same buckets and draws the running one lighter too.
    orders = page.evaluate("""() => { const c = window.panel.charts.chartFor('revenue-orders');
      return {labels: c.data.labels, colors: c.data.datasets[0].backgroundColor}; }""")
    assert orders["labels"] == labels
    assert orders["colors"][-1] != orders["colors"][0] and len(set(orders["colors"][:-1])) == 1
    # Switching to "same period last week" asks for it and keeps it in the address.
    page.select_option("#revenue-compare", "week")
    answer = watched.drawn_answer("revenue", "/admin/api/analytics/revenue", match=overlay_drawn, compare="week")
    assert "compare=week" in page.url
    # The shop's day is 3 days ago: a week earlier holds nothing, the current range holds it.
    assert answer["compare"]["total_cents"] == 0 and answer["summary"]["total_cents"] > 0
    watched.assert_clean()


def test_the_orders_chart_draws_the_compared_periods_orders(watched, shop):
    """The day after the shop's day, hour by hour, beside the day before it: the line is the
    shop's completed EUR orders per hour, as the API answers them."""
    page = watched.page
    after = (shop["day"] + timedelta(days=1)).date().isoformat()
    watched.goto(f"/admin/revenue?currency=EUR&compare=previous&period=hourly&start={after}&end={after}")

    def orders_drawn(answer, data):
        cmp = answer.get("compare")
        return cmp and len(data) == 2 and data[1] == [b["orders"] for b in cmp["buckets"]][:len(data[0])] \
            and data[0] == [b["completed"] for b in answer["buckets"]]

    answer = watched.drawn_answer("revenue-orders", "/admin/api/analytics/revenue", match=orders_drawn,
                                  compare="previous", period="hourly")
    cmp = answer["compare"]
    assert cmp["start"].startswith(shop["day"].date().isoformat()) and cmp["current_bucket"] is None
    completed_eur = [t for t in shop["txs"] if t["currency"] == "EUR" and t["status"] == "completed"]
    drawn = page.evaluate("() => window.panel.charts.chartFor('revenue-orders').data.datasets.map(d => d.data)")
    # Each completed EUR payment the shop made, counted in the hour it was made in.
    per_hour = {}
    for t in completed_eur:
        hour = datetime.fromisoformat(t["created_at"]).replace(minute=0, second=0, microsecond=0)
        per_hour[hour] = per_hour.get(hour, 0) + 1
    expected = [per_hour.get(datetime.fromisoformat(b["start"]), 0) for b in cmp["buckets"]]
    assert drawn[1] == expected and sum(expected) == len(completed_eur) > 1 and max(expected) < sum(expected)
    assert sum(drawn[0]) == 0  # nothing was sold the day after
    assert page.inner_text("#title-revenue-orders") == "Orders (EUR)"
    watched.assert_clean()


def test_the_traffic_overlay_draws_the_apis_counts(watched, shop):
    page = watched.page
    watched.goto("/admin/performance?compare=previous&own=1&minutes=15")
    read = "() => { const c = window.panel.charts.chartFor('throughput'); return c.data.datasets.map(d => d.data); }"

    def drawn():
        asked = [r for r in watched.sent if "/admin/api/performance" in r.url and "compare=previous" in r.url]
        response = asked[-1].response() if asked else None
        if response is None:
            return None
        answer = response.json()
        data = page.evaluate(read)
        expected = [p["count"] for p in answer["compare"]["timeline"]]
        return answer if len(data) == 3 and data[2] == expected else None

    answer = eventually(drawn, "the overlay never showed the API's counts")
    assert len(answer["compare"]["timeline"]) == 15 and answer["compare"]["kind"] == "previous"
    assert page.input_value("#perf-compare") == "previous"
    watched.assert_clean()
