"""Dashboards: time until every widget of a 20-widget dashboard shows data in headless Chromium,
and widget computations per tick with 50 dashboards open.

1. Browser: a real ``python app.py --demo`` (``--days`` of demo history, demo traffic running,
   a live push every ``--tick`` seconds, 5 by default); a 20-widget dashboard (the ten widget types, each on
   two ranges) is opened ``--loads`` times in fresh pages; for each load, ``performance.now()``
   at the first frame in which every widget holds data (state "ready"; noted by the page itself,
   a MutationObserver installed before it loads): a load just after a tick's edge (every widget
   computed for it meanwhile), a second one in the same tick (another viewer: results shared),
   and the first viewer of the next tick, 2 s into it (computed by that load unless warming,
   ``DASHBOARD_WARM_SECONDS``, computed it at the tick's edge).
2. Fan-out: in-process, on the same kind of history, 50 dashboards of 20 widgets (drawn from
   the default layout's and the ten-type dashboard's queries) are each asked for their data
   by two viewers per tick, over ``--ticks`` ticks; the widget cache counts computations. From
   the second tick on, the warming runs first (``warm.warm_once``, what the loop does at each
   tick's edge for the dashboards read lately), and the viewers read its results.

    python bench/dashboards.py             # about 2 minutes on 2 CPUs
    python bench/dashboards.py --loads 3 --ticks 2 --days 1
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.dashboards_setup import ten_widgets  # noqa: E402
from tests.servers import start_server  # noqa: E402

USER, PASSWORD = "bench", "bench-password-1"
# Installed in every page before it loads: the first frame in which all N widgets hold data is
# noted in the page itself, so the figure does not depend on when the harness starts asking
# (after goto's load event, which a page whose data is early reaches after its widgets).
READY_WATCH = """(() => { const n = %d; const seen = new MutationObserver(() => {
  const w = [...document.querySelectorAll('.widget')];
  if (w.length === n && w.every(e => e.dataset.state === 'ready')) {
    seen.disconnect(); requestAnimationFrame(() => { window.__allReadyAt = performance.now(); }); } });
  seen.observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-state']}); })();"""
ALL_READY = "() => window.__allReadyAt || false"


def twenty_widgets() -> list[dict]:
    """The ten types, each twice: once on the last 24 hours, once on today (or 7 days)."""
    out = []
    for copy, other in ((0, None), (1, "today")):
        for w in ten_widgets():
            w = {**w, "id": f"{w['id']}-{copy}", "gridPos": {**w["gridPos"], "y": w["gridPos"]["y"] + copy * 20}}
            if other:
                w["queries"] = [{**q, "range": "28d" if q.get("panel") == "activity_heatmap" else
                                 ("7d" if q.get("step") == "1h" else other)} for q in w["queries"]]
            out.append(w)
    return out


def browser(days: int, tick: float, loads: int) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = {"DEMO_BACKFILL_DAYS": str(days), "ADMIN_USERNAME": USER, "ADMIN_PASSWORD": PASSWORD,
               "LIVE_UPDATE_INTERVAL": str(tick), "SAMPLE_INTERVAL": str(tick)}
        began = time.monotonic()
        server = start_server(Path(tmp), env=env, demo=True, wait=180)
        print(f"demo server up with {days} day(s) of history in {time.monotonic() - began:.0f} s")
        try:
            with sync_playwright() as pw:
                chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = chromium.new_context(viewport={"width": 1440, "height": 900})
                page = context.new_page()
                page.goto(f"{server.url}/admin/login")
                page.fill("#username", USER)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url("**/admin/dashboard")
                made = page.evaluate("""async (widgets) => (await window.panel.api.post('/admin/api/dashboards',
                    {title: 'Bench', widgets})).dashboard""", twenty_widgets())
                state = context.storage_state()
                context.close()
                def load() -> float:
                    ctx = chromium.new_context(viewport={"width": 1440, "height": 900}, storage_state=state)
                    ctx.add_init_script(READY_WATCH % 20)
                    p = ctx.new_page()
                    p.goto(f"{server.url}/admin/dashboards/{made['id']}")
                    at = p.wait_for_function(ALL_READY, polling=50, timeout=30_000).json_value()
                    ctx.close()
                    return at / 1000

                cold, warm, mid = [], [], []
                for _ in range(loads):
                    # Results live one tick, on wall-clock multiples of it: start just after an edge,
                    # so the first load asks while the tick's results are being computed (by it, or
                    # by the warming that starts at the edge) and the second, same tick, reuses them.
                    time.sleep(tick - time.time() % tick + 0.05)
                    cold.append(load())
                    if time.time() % tick < tick - 2.0:
                        warm.append(load())
                    # The first viewer of a later tick, arriving when it is under way (as most do):
                    # computed by that load, unless warming computed it at the tick's edge.
                    time.sleep(tick - time.time() % tick + min(2.0, tick * 0.4))
                    mid.append(load())
                chromium.close()
        finally:
            server.stop(timeout=5)
    print(f"20 widgets, all with data after page start, {loads} loads: computed in that tick: median "
          f"{statistics.median(cold):.2f} s (min {min(cold):.2f}, max {max(cold):.2f})")
    print(f"  (each load, in seconds: just after the edge {_list(cold)}; 2 s into a tick {_list(mid)}; "
          f"second viewer {_list(warm)})")
    print(f"  the first viewer of a tick, {min(2.0, tick * 0.4):.1f} s into it: median {statistics.median(mid):.2f} s "
          f"(min {min(mid):.2f}, max {max(mid):.2f}) over {len(mid)} loads")
    if warm:
        print(f"  a second viewer in the same tick (results shared): median {statistics.median(warm):.2f} s "
              f"(min {min(warm):.2f}, max {max(warm):.2f}) over {len(warm)} loads")


def _list(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def fanout(days: int, ticks: int) -> None:
    from app_factory import create_app
    from services import dashboards
    from services.dashboards import warm
    from services.dashboards.model import normalize_query, query_key
    from services.demo import mode as demo

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": False,
                          "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "REDIS_URL": None,
                          "ADMIN_USERNAME": USER, "ADMIN_PASSWORD": PASSWORD, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                          "WTF_CSRF_ENABLED": False, "DEMO": False, "LIVE_UPDATE_INTERVAL": 5.0})
        began = time.monotonic()
        demo.backfill(app, days)
        print(f"in-process history: {days} day(s) of demo data in {time.monotonic() - began:.0f} s")
        client = app.test_client()
        client.post("/admin/login", data={"username": USER, "password": PASSWORD})
        pool = twenty_widgets() + client.get("/admin/api/dashboards/1").get_json()["dashboard"]["widgets"]
        ids = []
        for n in range(50):
            widgets = [{**pool[(n * 7 + i) % len(pool)], "id": f"w{i}", "gridPos": {"x": 0, "y": 2 * i, "w": 6, "h": 2}}
                       for i in range(20)]
            ids.append(client.post("/admin/api/dashboards", json={"title": f"B{n}", "widgets": widgets,
                                                                  "visibility": "roles", "shared_roles": ["admin"]}
                                   ).get_json()["dashboard"]["id"])
        distinct = {query_key(normalize_query(pool[(n * 7 + i) % len(pool)]["queries"][0], "q"))
                    for n in range(50) for i in range(20)}
        cache = dashboards.cache_of(app)
        clock = [1e9]
        cache.clock = lambda: clock[0]
        for t in range(ticks):
            clock[0] += cache.interval
            warmed = ""
            if t:  # read in the tick before: the warming computes this tick's results at its edge
                before, began = cache.stats()["computations"], time.perf_counter()
                warm.warm_once(app)
                warmed = (f"warming at the edge: {cache.stats()['computations'] - before} computations in "
                          f"{time.perf_counter() - began:.2f} s; then ")
            before, parts = cache.stats()["computations"], cache.stats()["parts"]
            started = time.perf_counter()
            for viewer in range(2):
                for board in ids:
                    assert client.post("/admin/api/widgets/query", json={"dashboard": board}).status_code == 200
            spent = time.perf_counter() - started
            print(f"tick {t + 1}: {warmed}50 dashboards x 20 widgets x 2 viewers = 2,000 widget reads -> "
                  f"{cache.stats()['computations'] - before} computations ({len(distinct)} distinct queries; "
                  f"{cache.stats()['parts'] - parts} shared customer figures), "
                  f"{spent:.2f} s for the 100 batch requests")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=2, help="days of demo history (default 2)")
    parser.add_argument("--tick", type=float, default=5.0, help="LIVE_UPDATE_INTERVAL of the browser run (default 5, the panel's)")
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--ticks", type=int, default=3)
    args = parser.parse_args()
    browser(args.days, args.tick, args.loads)
    fanout(args.days, args.ticks)


if __name__ == "__main__":
    main()
