"""The live activity feed and the actions chart in a real Chromium, on a server without demo
traffic (so the page holds exactly what the test sends).

The feed must show each action once, newest first by its own time, with its "… ago" label on
its own row, even when a `feed` event and a REST refresh (⟳) bring the same actions, in either
order. The polar chart gives every action a colour of its own.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.browser.conftest import SERVER_ENV, plain_panel

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]
KEY = SERVER_ENV["INGEST_API_KEY"]

# Every feed event's activity ids, as the page received them; and the pushes that prove the
# socket is in the room (a feed event sent before that never reaches the page).
FEED_SPY = """() => {
  window.__feedIds = [];
  window.__pushes = 0;
  document.addEventListener("live:update", (e) => { if (e.detail.source === "socket") window.__pushes += 1; });
  window.__feedUsers = [];
  document.addEventListener("live:feed", (e) => (e.detail.activities || []).forEach((a) => {
    window.__feedIds.push(a.id);
    window.__feedUsers.push(a.user_id);
  }));
}"""
FEED_ROWS = """() => [...document.querySelectorAll("#activity-feed li")].map((li) => {
  const time = li.querySelector("time");
  const row = li.getBoundingClientRect();
  const t = time.getBoundingClientRect();
  return {id: li.dataset.id, user: li.querySelector("strong").textContent, at: time.dateTime, ago: time.textContent,
          inRow: t.width > 0 && t.top >= row.top - 0.5 && t.bottom <= row.bottom + 0.5 && t.right <= row.right + 0.5};
})"""
MERGED = "() => Number(document.getElementById('activity-feed').dataset.merged || 0)"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """A plain server: no demo traffic, a push every second."""
    yield from plain_panel(tmp_path_factory, "activity")


def ingest(panel, activities):
    resp = requests.post(f"{panel.url}/api/v1/events", json={"activities": activities},
                         headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert resp.status_code == 202, resp.text


def ago_seconds(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+) (s|min|h|d) ago", text).groups()
    return int(number) * {"s": 1, "min": 60, "h": 3600, "d": 86400}[unit]


def refresh_and_wait(page):
    """Click ⟳ and wait until the feed has taken in the REST answer it caused."""
    before = page.evaluate(MERGED)
    page.click("#refresh-btn")
    page.wait_for_function(f"n => ({MERGED})() > n", arg=before)


def shown_users(page, prefix):
    """The feed's users from top to bottom, this test's only."""
    return [r["user"] for r in page.evaluate(FEED_ROWS) if r["user"].startswith(f"{prefix}-")]


@pytest.mark.parametrize("page_name", ["dashboard", "activity"])
def test_feed_shows_each_action_once_newest_first_whatever_arrives_first(watched, panel, page_name):
    page = watched.page
    now = datetime.now(timezone.utc)
    ages = {"old": 120, "late": 60, "a1": 30, "a2": 10, "a3": 20, "b1": 25, "b2": 5, "b3": 15}
    user = {key: f"{page_name}-{key}" for key in ages}  # each page's own actions
    at = {key: (now - timedelta(seconds=s)).isoformat() for key, s in ages.items()}
    ingest(panel, [{"user_id": user["old"], "action": "login", "created_at": at["old"]}])
    watched.goto(f"/admin/{page_name}")
    page.wait_for_function("u => [...document.querySelectorAll('#activity-feed li strong')]"
                           ".some(s => s.textContent === u)", arg=user["old"])
    page.evaluate(FEED_SPY)
    page.wait_for_function("() => window.__pushes > 0")

    def feed_event(keys, action):
        ingest(panel, [{"user_id": user[k], "action": action, "detail": f"/{k}", "created_at": at[k]}
                       for k in keys])
        wait_for_feed(keys)

    def wait_for_feed(keys):
        page.wait_for_function("users => users.every(u => window.__feedUsers.includes(u))",
                               arg=[user[k] for k in keys])

    # Three actions in one feed event, out of order; then one that arrives late (older than
    # what is shown); then ⟳ brings them all again over REST (the Activity page asks in the
    # browser's zone, so the times are written differently than in the feed event).
    feed_event(["a1", "a2", "a3"], "page_view")
    feed_event(["late"], "search")
    # (The spy listens after the page's own handler: the list is up to date when it counts.)
    assert shown_users(page, page_name) == [user[k] for k in ("a2", "a3", "a1", "late", "old")]
    refresh_and_wait(page)
    # ⟳ first (its answer already holds them), then the feed event with the same three.
    ingest(panel, [{"user_id": user[k], "action": "search", "created_at": at[k]} for k in ("b1", "b2", "b3")])
    refresh_and_wait(page)
    wait_for_feed(["b1", "b2", "b3"])

    rows = [r for r in page.evaluate(FEED_ROWS) if r["user"].startswith(f"{page_name}-")]
    assert [r["user"] for r in rows] == shown_users(page, page_name)
    assert [r["user"] for r in rows] == [user[k] for k in ("b2", "a2", "b3", "a3", "b1", "a1", "late", "old")]
    assert len({r["id"] for r in rows}) == 8 and all(r["id"] for r in rows)
    feed = dict(zip(page.evaluate("window.__feedUsers"), page.evaluate("window.__feedIds")))
    assert all(int(r["id"]) == feed[r["user"]] for r in rows if r["user"] in feed)
    keys = {v: k for k, v in user.items()}
    for row in rows:
        # The label belongs to this row: inside it, and about as old as the row's own time.
        assert row["inRow"], row
        shown = datetime.fromisoformat(row["at"].replace("Z", "+00:00"))
        assert abs(shown - datetime.fromisoformat(at[keys[row["user"]]])) < timedelta(milliseconds=1)
        age = (datetime.now(timezone.utc) - shown).total_seconds()
        assert abs(ago_seconds(row["ago"]) - age) <= 15 or row["ago"].endswith("min ago"), row
    watched.assert_clean()


def test_every_action_gets_its_own_colour(watched, panel):
    page = watched.page
    actions = ["page_view", "search", "login", "add_to_cart", "checkout", "logout", "review", "signup",
               "wishlist", "share", "compare", "return"]
    ingest(panel, [{"user_id": f"polar-{i}", "action": a} for i, a in enumerate(actions)])
    watched.goto("/admin/activity")
    colours = """() => { const c = window.panel.charts.chartFor('actions');
      return {labels: c.data.labels.length, colours: c.data.datasets[0].backgroundColor.slice()}; }"""
    page.wait_for_function(f"n => ({colours})().labels >= n", arg=len(actions))
    shown = page.evaluate(colours)
    assert len(shown["colours"]) == shown["labels"]
    assert len(set(shown["colours"])) == shown["labels"], shown["colours"]
    # Dark mode recolours the slices: still one colour each.
    page.click("#theme-toggle")
    dark = page.evaluate(colours)
    assert dark["colours"] != shown["colours"] and len(set(dark["colours"])) == dark["labels"]
    page.evaluate("localStorage.removeItem('admin-theme')")
    watched.assert_clean()
