"""Dashboards in a real Chromium: every widget type draws the API's figures, a widget dragged (or
moved with the keyboard) and saved keeps its place after a reload, and a phone shows one column."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests

from tests.browser.conftest import CSP_PROBE, PASSWORD, PHONE, SERVER_ENV, USER, eventually, plain_panel, shot
from tests.browser.dashboards_setup import TYPES, ingest_history, ten_widgets

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

CREATE = """async (widgets) => (await window.panel.api.post('/admin/api/dashboards',
  {title: 'Every widget', visibility: 'roles', shared_roles: ['admin', 'viewer'], widgets})).dashboard"""
ANSWER = "async (id) => (await window.panel.api.post('/admin/api/widgets/query', {dashboard: id})).results"
READ = "async (id) => (await window.panel.api.get(`/admin/api/dashboards/${id}`)).dashboard"
# Pixels of a canvas that are not transparent: something was drawn.
INKED = """(id) => { const c = document.getElementById(`chart-w-${id}`); if (!c || !c.width) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n += 1; return n; }"""
DRAWN = """(id) => { const c = window.panel.charts.chartFor(`w-${id}`); return c ? c.data.datasets.map(d => d.data) : null; }"""


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """A server without demo traffic holding a fixed history."""
    for running in plain_panel(tmp_path_factory, "dashboards", {"PUBLIC_DASHBOARDS": "true"}):
        ingest_history(running.url, SERVER_ENV["INGEST_API_KEY"])
        yield running


@pytest.fixture(scope="module")
def board(panel, chromium, login_state):
    context = chromium.new_context(storage_state=login_state)
    page = context.new_page()
    page.goto(f"{panel.url}/admin/dashboards")
    made = page.evaluate(CREATE, ten_widgets())
    context.close()
    return made


def _open(watched, board_id):
    watched.goto(f"/admin/dashboards/{board_id}")
    watched.page.wait_for_function("() => Number(document.getElementById('dash-root').dataset.loaded || 0) > 0")
    return watched.page


def test_each_widget_type_draws_the_api_figures(watched, board):
    page = _open(watched, board["id"])
    answer = {wid: r[0]["data"] for wid, r in page.evaluate(ANSWER, board["id"]).items()}
    states = page.evaluate("() => Object.fromEntries([...document.querySelectorAll('.widget')].map(w => [w.dataset.widget, w.dataset.state]))")
    assert states == {t.replace("_", "-"): "ready" for t in TYPES}, states
    for kind in ("line", "bar", "pie", "gauge", "sparkline"):
        assert page.evaluate(INKED, kind) > 500, f"{kind} drew nothing"
    figure = lambda sel: page.eval_on_selector(sel, "e => Number(e.dataset.raw)")  # noqa: E731
    assert answer["metric-card"]["value"] > 0
    assert figure("[data-widget=metric-card] .widget-figure") == answer["metric-card"]["value"]
    assert figure("[data-widget=kpi] .widget-figure") == answer["kpi"]["value"]
    assert figure("[data-widget=progress] .widget-figure") == answer["progress"]["value"]
    assert figure("[data-widget=gauge] .gauge-value") == answer["gauge"]["value"]
    assert figure("[data-widget=sparkline] .spark-value") == answer["sparkline"]["value"]
    assert page.evaluate(DRAWN, "line") == [[p[1] for p in answer["line"]["series"][0]["points"]]]
    assert page.evaluate(DRAWN, "bar") == [[p[1] for p in answer["bar"]["series"][0]["points"]]]
    assert page.evaluate(DRAWN, "pie") == [[r[1] for r in answer["pie"]["rows"]]]
    cells = page.eval_on_selector_all("[data-widget=table] tbody tr", "rows => rows.map(r => r.cells[0].textContent)")
    assert cells == [r[0] for r in answer["table"]["rows"]] and len(cells) == 5
    heat = page.eval_on_selector_all("#w-heatmap .hm-cell", "cells => cells.map(c => Number(c.dataset.value))")
    assert heat == [v for row in answer["heatmap"]["grid"] for v in row] and sum(heat) > 0
    # Thresholds colour the figure; a KPI says how far it is from its target.
    assert page.eval_on_selector("[data-widget=metric-card] .widget-figure", "e => getComputedStyle(e).color") == "rgb(31, 157, 85)"
    assert "% of target" in page.inner_text("[data-widget=kpi] .kpi-target")
    # Every chart has "Show as table" with the same numbers.
    page.click("[data-widget=bar] .table-toggle")
    rows = page.eval_on_selector_all("#table-w-bar tbody tr", "rows => rows.map(r => r.cells[1].textContent)")
    assert [int(v.replace(",", "")) for v in rows] == [p[1] for p in answer["bar"]["series"][0]["points"]]
    shot(page, "dashboard-widgets-desktop")
    watched.assert_clean()


def test_drag_and_keyboard_moves_are_saved_and_kept(watched, board):
    page = _open(watched, board["id"])
    page.click("#dash-edit")
    before = page.evaluate(READ, board["id"])
    card = page.locator("[data-widget=metric-card] .panel-head h2")
    box = card.bounding_box()
    grid = page.locator("#dash-grid").bounding_box()
    # Drag the card by its title to the far right of a free row below everything.
    page.mouse.move(box["x"] + 10, box["y"] + 5)
    page.mouse.down()
    target_y = grid["y"] + grid["height"] + 60
    for step in range(1, 11):
        page.mouse.move(box["x"] + 10 + (grid["width"] * 0.55) * step / 10, box["y"] + 5 + (target_y - box["y"]) * step / 10)
    page.mouse.up()
    dragged = page.evaluate("() => window.panel.dashboard.state.grid.engine.nodes.find(n => n.id === 'metric-card')")
    assert (dragged["x"], dragged["y"]) != (0, 0)
    # The KPI card moves one column right with the keyboard.
    kpi_before = next(w for w in before["widgets"] if w["id"] == "kpi")["gridPos"]
    page.focus("[data-widget=kpi]")
    page.keyboard.press("ArrowRight")
    page.click("#dash-save")
    eventually(lambda: page.evaluate(READ, board["id"])["version"] == before["version"] + 1, "the layout was not saved")

    page.reload()
    page.wait_for_function("() => Number(document.getElementById('dash-root').dataset.loaded || 0) > 0")
    saved = {w["id"]: w["gridPos"] for w in page.evaluate(READ, board["id"])["widgets"]}
    assert (saved["metric-card"]["x"], saved["metric-card"]["y"]) == (dragged["x"], dragged["y"])
    assert saved["kpi"] == {**kpi_before, "x": kpi_before["x"] + 1}
    shown = page.eval_on_selector("[gs-id=metric-card]", "e => [Number(e.getAttribute('gs-x')), Number(e.getAttribute('gs-y'))]")
    assert shown == [dragged["x"], dragged["y"]]
    watched.assert_clean()


def test_a_phone_shows_one_column(watched, board):
    page = watched.page
    page.set_viewport_size(PHONE)
    _open(watched, board["id"])
    assert page.get_attribute("#dash-root", "data-columns") == "1"
    boxes = page.eval_on_selector_all(".grid-stack-item", "items => items.map(i => { const r = i.getBoundingClientRect(); return [r.left, r.width, r.top]; })")
    assert len(boxes) == 10 and len({round(b[0]) for b in boxes}) == 1 and len({round(b[1]) for b in boxes}) == 1
    assert len({round(b[2]) for b in boxes}) == 10  # stacked, none beside another
    assert all(b[1] <= 375 for b in boxes)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    shot(page, "dashboard-widgets-phone")
    watched.assert_clean()


def test_widgets_refresh_on_the_live_tick(watched, panel):
    page = watched.page
    watched.goto("/admin/dashboards")
    made = page.evaluate(CREATE, [{"id": "gbp", "type": "metric_card", "title": "GBP now",
                                   "gridPos": {"x": 0, "y": 0, "w": 3, "h": 2},
                                   "queries": [{"metric": "revenue_cents", "agg": "sum", "reduce": "sum",
                                                "range": "15m", "currency": "GBP"}],
                                   "options": {"format": "money"}}])
    page = _open(watched, made["id"])
    assert page.get_attribute("[data-widget=gbp]", "data-state") == "empty"
    loads = int(page.get_attribute("#dash-root", "data-loaded"))
    resp = requests.post(f"{panel.url}/api/v1/events", headers={"Authorization": f"Bearer {SERVER_ENV['INGEST_API_KEY']}"},
                         json={"transactions": [{"id": "live-gbp", "amount_cents": 4321, "currency": "GBP",
                                                 "status": "completed", "customer_id": "live",
                                                 "created_at": datetime.now(timezone.utc).isoformat()}]}, timeout=10)
    assert resp.status_code == 202
    # No reload, no click: the next live_update ticks bring it.
    page.wait_for_function("() => document.querySelector('[data-widget=gbp] .widget-figure').dataset.raw === '4321'",
                           timeout=15_000)
    assert int(page.get_attribute("#dash-root", "data-loaded")) > loads
    watched.assert_clean()


# Once no refresh is in flight, and in one turn of the page's event loop: send a live_update
# stamped in the middle of the tick ``offset`` ticks after the one the drawn results come from,
# and say whether it started a refresh (null: one was in flight, ask again).
LIVE_UPDATE_REFRESHES = """(offset) => {
  const state = window.panel.dashboard.state;
  if (state.loading) return null;
  const stamp = new Date((state.tick + offset + 0.5) * state.tickSeconds * 1000).toISOString();
  document.dispatchEvent(new CustomEvent("live:update", {detail: {timestamp: stamp, source: "socket"}}));
  return state.loading !== null;
}"""


def _live_update_refreshes(page, offset: int) -> bool:
    said = []
    eventually(lambda: said.append(page.evaluate(LIVE_UPDATE_REFRESHES, offset)) or said[-1] is not None,
               lambda: "a refresh stayed in flight", timeout=10, every=0.05)
    return said[-1]


def test_a_live_update_of_the_tick_already_drawn_asks_for_nothing(watched, board):
    """The live_update sent on joining the live room, or any other of the tick the drawn results
    come from, would redraw the same shared results: only a newer tick refreshes the widgets."""
    page = _open(watched, board["id"])
    tick, seconds = page.evaluate("() => [window.panel.dashboard.state.tick, window.panel.dashboard.state.tickSeconds]")
    assert isinstance(tick, int) and seconds > 0
    assert _live_update_refreshes(page, 0) is False
    assert _live_update_refreshes(page, -3) is False
    assert _live_update_refreshes(page, 1) is True
    watched.assert_clean()


def test_a_public_link_shows_the_dashboard_read_only_without_a_login(watched, board, chromium, panel):
    watched.goto("/admin/dashboards")
    shared = watched.page.evaluate("""async (id) => (await window.panel.api.post(`/admin/api/dashboards/${id}/share`,
      {visibility: 'public'})).dashboard""", board["id"])
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{panel.url}{shared['public_url']}")
    page.wait_for_function("() => Number(document.getElementById('dash-root').dataset.loaded || 0) > 0")
    states = page.eval_on_selector_all(".widget", "ws => ws.map(w => w.dataset.state)")
    assert states == ["ready"] * 10
    assert page.evaluate(INKED, "line") > 500
    assert page.query_selector("#dash-edit") is None and page.query_selector(".topbar") is None
    assert not errors and not page.evaluate("window.__cspViolations")
    context.close()
    watched.page.evaluate("""async (id) => window.panel.api.post(`/admin/api/dashboards/${id}/share`,
      {visibility: 'roles', shared_roles: ['admin', 'viewer']})""", board["id"])


def test_the_list_shows_what_is_shared_and_creates_a_dashboard(watched, board):
    page = watched.page
    watched.goto("/admin/dashboards")
    page.wait_for_selector("#dash-list a")
    titles = page.eval_on_selector_all("#dash-list a", "links => links.map(a => a.textContent)")
    assert titles[0] == "Business overview" and "Every widget" in titles
    page.fill("#dash-create input[name=title]", "Made in the browser")
    page.click("#dash-create button[type=submit]")
    page.wait_for_url("**/admin/dashboards/*")
    page.wait_for_function("() => Number(document.getElementById('dash-root').dataset.loaded || 0) > 0")
    assert page.inner_text("#dash-title") == "Made in the browser"
    # Add a widget of one more type in edit mode, save, and find it after a reload.
    page.click("#dash-edit")
    page.select_option("#dash-add-type", "gauge")
    page.click("#dash-add")
    page.click("#widget-dialog button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('.widget').length === 1")
    page.click("#dash-save")
    page.wait_for_function("() => !document.getElementById('dash-root').classList.contains('editing')")
    page.reload()
    page.wait_for_function("() => Number(document.getElementById('dash-root').dataset.loaded || 0) > 0")
    assert page.eval_on_selector_all(".widget", "ws => ws.map(w => w.dataset.type)") == ["gauge"]
    watched.assert_clean()


def test_top_products_draw_as_bar_pie_and_table(watched, panel):
    """Last in the module: its sales would move the other tests' figures."""
    at = datetime.now(timezone.utc).isoformat()
    lines = [("MUG-1", 2, 2400), ("TEE-2", 5, 1000), ("GONE-9", 1, 300)]
    tx = {"id": "tp-1", "amount_cents": 3700, "currency": "USD", "status": "completed", "created_at": at,
          "customer_id": "tp-buyer",
          "items": [{"sku": s, "quantity": q, "amount_cents": a} for s, q, a in lines]}
    sent = requests.post(f"{panel.url}/api/v1/events", headers={"Authorization": f"Bearer {SERVER_ENV['INGEST_API_KEY']}"},
                         json={"products": [{"sku": "MUG-1", "name": "Mug"}, {"sku": "TEE-2", "name": "T-shirt"}],
                               "transactions": [tx]}, timeout=10)
    assert sent.status_code == 202, sent.text
    query = {"kind": "panel", "panel": "top_products", "range": "7d", "tz": "UTC", "currency": "USD", "by": "units"}
    widgets = [{"id": f"tp-{kind}", "type": kind, "title": f"Top products {kind}", "queries": [query], "options": {},
                "gridPos": {"x": 0, "y": i * 4, "w": 6, "h": 4}} for i, kind in enumerate(("bar", "pie", "table"))]
    watched.goto("/admin/dashboards")
    made = watched.page.evaluate(CREATE, widgets)
    page = _open(watched, made["id"])
    rows = page.evaluate(ANSWER, made["id"])["tp-bar"][0]["data"]["rows"]
    assert [r[0] for r in rows] == ["T-shirt", "Mug", "GONE-9"] and [r[1] for r in rows] == [5, 2, 1]
    for kind in ("bar", "pie"):
        eventually(lambda kind=kind: page.evaluate(DRAWN, f"tp-{kind}") == [[5, 2, 1]], f"{kind} not drawn")
        labels = page.evaluate(f"() => window.panel.charts.chartFor('w-tp-{kind}').data.labels")
        assert labels == ["T-shirt", "Mug", "GONE-9"]
    assert page.evaluate(INKED, "tp-bar") > 500
    cells = page.eval_on_selector_all("[data-widget=tp-table] tbody tr", "rows => rows.map(r => r.cells[0].textContent)")
    assert cells == ["T-shirt", "Mug", "GONE-9"]
    watched.assert_clean()


def test_a_dashboard_picked_as_home_is_where_signing_in_lands(watched, board, chromium, panel):
    page = watched.page
    watched.goto("/admin/dashboards")
    row = page.locator(f"#dash-list li[data-dashboard='{board['id']}']")
    row.get_by_role("button", name="Make this my home").click()
    row.locator(".dash-home", has_text="your home").wait_for()
    context = chromium.new_context()
    try:
        fresh = context.new_page()
        fresh.goto(f"{panel.url}/admin/login")
        fresh.fill("#username", USER)
        fresh.fill("#password", PASSWORD)
        fresh.click("button[type=submit]")
        fresh.wait_for_url(f"**/admin/dashboards/{board['id']}")
        fresh.wait_for_function("() => Number(document.getElementById('dash-root').dataset.loaded || 0) > 0")
    finally:
        context.close()
    # Back to the Overview as home, so other sign-ins land where they expect.
    page.locator(f"#dash-list li[data-dashboard='{board['id']}']").get_by_role(
        "button", name="Use the Overview as home").click()
    page.locator(f"#dash-list li[data-dashboard='{board['id']}'] .dash-home").wait_for(state="detached")
    watched.assert_clean()
