"""Every page at 375 px (and Revenue at 1440 px) in a real Chromium with the demo's data.

What a phone user would notice: a figure spilling out of its card, a table showing two columns
with no sign that there are more, a nav cut off mid-word, the heatmap's last hour missing, time
labels printed over each other, an axis title sitting on the tick labels.
"""
from __future__ import annotations

import pytest

from blueprints import pages
from tests.browser.conftest import CSP_PROBE, DESKTOP, PHONE, Watched, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

# What each page must have drawn before its layout is judged (its figures, rows and charts).
READY = {
    "dashboard": ["#live-transactions tbody tr[data-id]", "#activity-feed li[data-id]",
                  "#timeline-alerts tbody tr"],
    "revenue": ["#customer-value tbody td.num", "#top-customers tbody td.num", "#channel-table tbody td.num"],
    "performance": ["#endpoints tbody td.num"],
    "activity": ["#heatmap .hm-cell", "#activity-feed li[data-id]", "#live-transactions tbody tr[data-id]"],
    "alerts": ["#rules tbody tr[data-rule-id]", "#channels tbody tr[data-channel]", "#history tbody tr"],
    "logs": ["#log-list li"],
    "exports": ["#x-history tbody tr"],
    "audit": ["#audit-table tbody time"],
    "services": ["#monitors tbody td"],
    "metrics": ["#catalog tbody td.num"],
}
# Hidden panels (a detail view not opened yet) load nothing, so only shown ones must settle.
SETTLED = """sels => sels.every(s => document.querySelector(s))
  && [...document.querySelectorAll("[data-card], [data-chart]")]
       .filter(el => el.getClientRects().length)
       .every(el => el.dataset.state !== "loading")"""

# Every element of every visible card: none wider than its own box, none sticking out of the
# card. Table boxes (.table-scroll, .chart-table) may scroll; what is inside them is checked
# by TABLES instead.
CARD_OVERFLOW = """() => {
  const name = (el) => el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`;
  const bad = [];
  for (const card of document.querySelectorAll(".card")) {
    if (!card.getClientRects().length) continue;
    const box = card.getBoundingClientRect();
    for (const el of [card, ...card.querySelectorAll("*")]) {
      if (!el.getClientRects().length || el.closest(".visually-hidden")) continue;
      const scrollBox = el.closest(".table-scroll, .chart-table");
      if (scrollBox && scrollBox !== el) continue;
      if (!scrollBox && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
        bad.push(`${name(el)} in ${name(card)}: scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth} ("${el.textContent.trim().slice(0, 40)}")`);
      }
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1)) {
        bad.push(`${name(el)} sticks out of ${name(card)}: ${r.left}..${r.right} vs ${box.left}..${box.right}`);
      }
    }
  }
  return bad;
}"""

# Every table box: inside its card; when its table is wider, it scrolls, says so, and keeps the
# first column in view when scrolled to the far right.
TABLES = """() => {
  const out = [];
  for (const box of document.querySelectorAll(".card .table-scroll, .card .chart-table")) {
    if (!box.getClientRects().length) continue;
    const table = box.querySelector("table");
    const card = box.closest(".card").getBoundingClientRect();
    const r = box.getBoundingClientRect();
    const hint = box.nextElementSibling;
    const entry = {id: table.id || box.id, inCard: r.left >= card.left - 1 && r.right <= card.right + 1,
                   wider: table.scrollWidth > box.clientWidth + 1, scrolls: box.scrollWidth > box.clientWidth + 1,
                   hint: Boolean(hint && hint.classList.contains("scroll-hint") && hint.getClientRects().length
                                 && hint.textContent.includes("more columns"))};
    if (entry.wider) {
      const before = box.scrollLeft;
      box.scrollLeft = box.scrollWidth;
      const first = table.querySelector("tr > :first-child").getBoundingClientRect();
      entry.keyColumnKept = Math.abs(first.left - r.left) <= 2;
      entry.seen = {firstLeft: first.left, boxLeft: r.left, scrolledBy: box.scrollLeft, classes: box.className};
      box.scrollLeft = before;
    }
    out.push(entry);
  }
  return out;
}"""

NAV = """() => {
  const nav = document.querySelector(".nav");
  return {fits: nav.scrollWidth <= nav.clientWidth + 1,
          links: [...nav.querySelectorAll("a")].map(a => {
            const r = a.getBoundingClientRect();
            return {text: a.textContent.trim(), inside: r.left >= 0 && r.right <= window.innerWidth && r.width > 0};
          })};
}"""

# Tick labels of every drawn chart: horizontal ones never closer than 6 px to each other; a
# vertical axis with a title keeps the title clear of its labels.
CHART_LABELS = """() => {
  if (!window.Chart) return {problems: [], axes: 0};  // a page without charts
  const H = window.Chart.helpers;
  const problems = [];
  let axes = 0;
  for (const panel of document.querySelectorAll("[data-chart]")) {
    const chart = window.panel.charts.chartFor(panel.dataset.chart);
    if (!chart || panel.dataset.state !== "ready") continue;
    const ctx = chart.ctx;
    for (const scale of Object.values(chart.scales)) {
      if (!scale.options.display || scale.axis === "r" || !scale.ticks.length) continue;
      axes += 1;
      const boxes = scale.getLabelItems().map((item) => {
        ctx.save();
        ctx.font = item.font.string;
        const lines = Array.isArray(item.label) ? item.label : [item.label];
        const width = Math.max(...lines.map((l) => ctx.measureText(String(l)).width));
        ctx.restore();
        const x = item.options.translation[0];
        const align = item.options.textAlign;
        const left = align === "center" ? x - width / 2 : align === "right" ? x - width : x;
        return {label: String(item.label), left, right: left + width, rotation: item.options.rotation};
      });
      if (scale.isHorizontal()) {
        boxes.sort((a, b) => a.left - b.left);
        for (let i = 1; i < boxes.length; i += 1) {
          if (!boxes[i].rotation && boxes[i].left < boxes[i - 1].right + 6) {
            problems.push(`${panel.dataset.chart}/${scale.id}: "${boxes[i - 1].label}" and "${boxes[i].label}" touch`);
          }
        }
      } else if (scale.options.title && scale.options.title.display) {
        const title = H.toFont(scale.options.title.font).lineHeight + H.toPadding(scale.options.title.padding).height;
        for (const b of boxes) {
          const onTitle = scale.position === "left" ? b.left < scale.left + title : b.right > scale.right - title;
          if (onTitle) problems.push(`${panel.dataset.chart}/${scale.id}: title "${scale.options.title.text}" on label "${b.label}"`);
        }
      }
    }
  }
  return {problems, axes};
}"""

HEATMAP = """() => {
  const cells = [...document.querySelectorAll("#heatmap .hm-cell")];
  const last = cells[23].getBoundingClientRect();  // Monday, 23:00
  const box = document.querySelector(".heatmap-box");
  const b = box.getBoundingClientRect();
  const card = box.closest(".card").getBoundingClientRect();
  return {cells: cells.length, lastVisible: last.width > 0 && last.right <= b.right + 0.5 && last.right <= card.right,
          noScroll: box.scrollWidth <= box.clientWidth + 1};
}"""


@pytest.fixture
def phone(panel, chromium, login_state):
    """A logged-in page at 375 x 812, failing on console errors or CSP violations."""
    context = chromium.new_context(viewport=PHONE, storage_state=login_state, timezone_id="Europe/Berlin",
                                   device_scale_factor=1)
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield Watched(page, panel.url)
    context.close()


@pytest.mark.parametrize("name", list(READY))
def test_every_page_fits_a_phone(phone, name):
    page = phone.page
    phone.goto(f"/admin/{name}")
    page.wait_for_function(SETTLED, arg=READY[name])
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1, "the page scrolls sideways"
    assert page.evaluate(CARD_OVERFLOW) == []

    tables = page.evaluate(TABLES)
    assert all(t["inCard"] for t in tables), tables
    wide = [t for t in tables if t["wider"]]
    for table in wide:
        assert table["scrolls"] and table["hint"] and table["keyColumnKept"], table
    assert not [t for t in tables if not t["wider"] and t["hint"]], "a hint under a table that fits"
    if name in ("dashboard", "revenue", "performance", "activity", "alerts", "audit"):
        assert wide, f"{name}: no table is wider than a phone; the check above proved nothing"

    nav = page.evaluate(NAV)
    assert nav["fits"] and all(link["inside"] for link in nav["links"]), nav
    assert len(nav["links"]) == len(pages.NAV)  # an admin sees every page's link

    labels = page.evaluate(CHART_LABELS)
    assert labels["problems"] == []
    if name in ("dashboard", "revenue", "performance"):
        assert labels["axes"] >= 2
    if name == "activity":
        heat = page.evaluate(HEATMAP)
        assert heat == {"cells": 7 * 24, "lastVisible": True, "noScroll": True}
    shot(page, f"{name}-phone")
    phone.assert_clean()


def test_revenue_figure_fits_its_card_by_shrinking_not_by_cutting(phone):
    page = phone.page
    phone.goto("/admin/revenue")
    page.wait_for_function("() => document.querySelector('[data-card=total]').dataset.state === 'ready'")
    value = page.locator('[data-card="total"] .metric-value')
    text = value.inner_text()
    cents = float(value.get_attribute("data-value"))
    assert cents >= 100_000_00, "the demo's range should hold a seven-digit revenue figure"
    assert f"{cents / 100:,.2f}" in text  # the whole figure, on one line
    fits = page.evaluate("""() => { const v = document.querySelector('[data-card="total"] .metric-value');
      return [v.scrollWidth <= v.clientWidth, v.getClientRects().length, parseFloat(getComputedStyle(v).fontSize)]; }""")
    assert fits[0] and fits[1] == 1 and fits[2] >= 12, fits


def test_value_per_customer_shows_mean_and_median_on_a_desktop(watched):
    page = watched.page
    assert page.viewport_size == DESKTOP
    watched.goto("/admin/revenue")
    page.wait_for_selector("#customer-value tbody td.num")
    check = page.evaluate("""() => {
      const table = document.getElementById("customer-value");
      const card = table.closest(".card").getBoundingClientRect();
      const heads = [...table.tHead.rows[0].cells].map(th => {
        const r = th.getBoundingClientRect();
        return [th.textContent.trim(), r.left >= card.left && r.right <= card.right];
      });
      const box = table.closest(".table-scroll");
      return {heads, scrolls: box.scrollWidth > box.clientWidth + 1};
    }""")
    assert check == {"heads": [["Currency", True], ["Paying customers", True], ["Revenue", True],
                               ["Mean", True], ["Median", True]], "scrolls": False}
    watched.assert_clean()


def test_a_long_key_stays_in_view_when_the_table_scrolls(phone):
    """A key longer than the phone (an alert's title) wraps, so the sticky column stays in view."""
    page = phone.page
    phone.goto("/admin/dashboard")
    page.wait_for_function(SETTLED, arg=READY["dashboard"])
    page.evaluate("""() => {
      const row = document.querySelector("#timeline-alerts tbody").insertRow();
      row.insertCell().textContent = "Failed payments above five percent on every channel " + "x".repeat(60);
      for (let i = 0; i < 5; i++) row.insertCell().textContent = "$123,456.78 · €98,765.43";
    }""")
    alerts = [t for t in page.evaluate(TABLES) if t["id"] == "timeline-alerts"]
    assert alerts and alerts[0]["wider"] and alerts[0]["keyColumnKept"], alerts
