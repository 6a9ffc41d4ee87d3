"""Each distinct widget query is computed once per tick for every viewer of every dashboard: 50
dashboards of 20 widgets sharing 12 queries cost 12 computations a tick, whoever asks, and the
same 12 when the tick's results are computed as it begins for the dashboards people look at
(warming); a dashboard no one looked at lately costs nothing."""
from __future__ import annotations

import itertools

from services import dashboards
from services.dashboards import warm
from services.live import scheduler as live
from tests.dashboard_helpers import create, sales, widget
from tests.helpers import ADMIN, wait_for

POOL = [
    {"metric": "revenue_cents", "agg": "sum", "reduce": "sum", "range": r, "currency": c}
    for r, c in itertools.product(["1h", "24h", "today"], ["USD", "EUR"])
] + [
    {"metric": "orders", "agg": "sum", "group_by": [], "step": "1h", "range": "24h"},
    {"metric": "orders", "agg": "sum", "group_by": [], "reduce": "sum", "range": "7d"},
    {"kind": "panel", "panel": "top_customers", "range": "24h"},
    {"kind": "panel", "panel": "customer_segments", "range": "today"},
    {"kind": "panel", "panel": "recent_transactions", "range": "24h", "limit": 5},
    {"kind": "panel", "panel": "customer_summary", "field": "customers", "range": "24h"},
]


def _board(admin_client, n: int) -> int:
    widgets = []
    for i in range(20):
        query = dict(POOL[(n + i) % len(POOL)])
        # The same query written differently (defaults spelled out, keys reordered) is the same query.
        if i % 3 == 0:
            query = {"tz": "UTC", **dict(reversed(list(query.items())))}
        widgets.append({"id": f"w{i}", "type": "table", "title": f"W{i}", "gridPos": {"x": 0, "y": i * 2, "w": 6, "h": 2},
                        "queries": [query]})
    made = create(admin_client, f"Board {n}", widgets, visibility="roles", shared_roles=["admin", "viewer"])
    assert made.status_code == 201, made.get_json()
    return made.get_json()["dashboard"]["id"]


def test_fifty_dashboards_cost_one_computation_per_distinct_query_per_tick(app, admin_client, viewer_client):
    sales(app)
    boards = [_board(admin_client, n) for n in range(50)]
    cache = dashboards.cache_of(app)
    clock = [1_000_000.0 * cache.interval]
    cache.clock = lambda: clock[0]

    def one_tick():
        before = cache.stats()["computations"]
        answers = {}
        for client in (admin_client, viewer_client):  # two viewers of every dashboard
            for board in boards:
                resp = client.api("POST", "/admin/api/widgets/query", json={"dashboard": board})
                assert resp.status_code == 200
                answers[(client is admin_client, board)] = resp.get_json()["results"]
        return cache.stats()["computations"] - before, answers

    computed, answers = one_tick()
    assert computed == len(POOL) == 12  # 2,000 widget reads, 12 computations
    first = answers[(True, boards[0])]["w0"]
    assert first == answers[(False, boards[0])]["w0"] and "data" in first[0]
    # The next tick computes each query once more, no matter how many ask.
    clock[0] += cache.interval
    computed, _ = one_tick()
    assert computed == 12
    # A batch of the same queries sent by a page in the same tick reuses them too.
    before = cache.stats()["computations"]
    resp = admin_client.api("POST", "/admin/api/widgets/query", json={"queries": POOL * 3})
    assert resp.status_code == 200 and len(resp.get_json()["results"]) == 36
    assert cache.stats()["computations"] == before


def test_a_new_tick_shows_new_data(app, admin_client):
    cache = dashboards.cache_of(app)
    clock = [2_000_000.0 * cache.interval]
    cache.clock = lambda: clock[0]
    q = {"metric": "orders", "agg": "sum", "group_by": [], "reduce": "sum", "range": "24h"}
    ask = lambda: admin_client.api("POST", "/admin/api/widgets/query", json={"queries": [q]}).get_json()["results"][0]  # noqa: E731
    assert ask()["data"]["value"] is None
    sales(app)
    assert ask()["data"]["value"] is None  # same tick: the shared answer holds
    clock[0] += cache.interval
    assert ask()["data"]["value"] == 4


def test_answers_name_the_tick_their_results_belong_to(app, admin_client):
    """A page skips a live_update stamped in the tick its results come from; the answer says
    which tick that is, on the cache's own clock, for a batch and for a saved dashboard."""
    cache = dashboards.cache_of(app)
    clock = [2_000_000.0 * cache.interval + 0.4 * cache.interval]
    cache.clock = lambda: clock[0]
    q = {"metric": "orders", "agg": "sum", "group_by": [], "reduce": "sum", "range": "24h"}
    board = create(admin_client, "Ticks", [widget("w", "metric_card", q)]).get_json()["dashboard"]["id"]
    for body in ({"queries": [q]}, {"dashboard": board}):
        answer = admin_client.api("POST", "/admin/api/widgets/query", json=body).get_json()
        assert answer["tick_seconds"] == cache.interval and answer["tick"] == 2_000_000
    clock[0] += cache.interval
    assert admin_client.api("POST", "/admin/api/widgets/query", json={"dashboard": board}).get_json()["tick"] == 2_000_001


def test_warming_computes_each_viewed_query_once_and_nothing_unviewed(app, admin_client, viewer_client):
    sales(app)
    boards = [_board(admin_client, n) for n in range(50)]
    unseen_query = {"metric": "revenue_cents", "agg": "sum", "reduce": "sum", "range": "7d", "currency": "GBP"}
    unseen = create(admin_client, "Nobody looks", [widget("u", query=unseen_query)]).get_json()["dashboard"]["id"]
    cache = dashboards.cache_of(app)
    clock = [3_000_000.0 * cache.interval]
    cache.clock = lambda: clock[0]
    assert warm.warm_once(app) == 0 and cache.stats()["computations"] == 0  # nothing viewed yet
    for board in boards:  # tick 1: each dashboard is opened
        assert admin_client.api("POST", "/admin/api/widgets/query", json={"dashboard": board}).status_code == 200
    assert cache.stats()["computations"] == 12

    # Tick 2 begins: the warm-up computes the 12 distinct queries once, not the unviewed one...
    clock[0] += cache.interval
    assert warm.warm_once(app) == 12
    assert cache.stats()["computations"] == 24
    # ...so both viewers of every dashboard, the first ones included, read shared results.
    for client in (admin_client, viewer_client):
        for board in boards:
            assert client.api("POST", "/admin/api/widgets/query", json={"dashboard": board}).status_code == 200
    assert cache.stats()["computations"] == 24
    assert warm.warm_once(app) == 12 and cache.stats()["computations"] == 24  # a second warm in the tick: none
    # The dashboard no one opened was never computed: its first reader computes it.
    admin_client.api("POST", "/admin/api/widgets/query", json={"dashboard": unseen})
    assert cache.stats()["computations"] == 25

    # Once no one has asked for DASHBOARD_WARM_SECONDS, warming stops costing anything.
    clock[0] += app.config["DASHBOARD_WARM_SECONDS"] + cache.interval
    assert warm.warm_once(app) == 0 and cache.stats()["computations"] == 25


def test_a_warmed_tick_shows_the_data_stored_before_it(app, admin_client):
    q = {"metric": "orders", "agg": "sum", "group_by": [], "reduce": "sum", "range": "24h"}
    board = create(admin_client, "Orders", [widget("o", query=q)]).get_json()["dashboard"]["id"]
    cache = dashboards.cache_of(app)
    clock = [4_000_000.0 * cache.interval]
    cache.clock = lambda: clock[0]
    ask = lambda: admin_client.api("POST", "/admin/api/widgets/query", json={"dashboard": board}  # noqa: E731
                                   ).get_json()["results"]["o"][0]["data"]["value"]
    assert ask() is None
    sales(app)
    clock[0] += cache.interval
    assert warm.warm_once(app) == 1
    before = cache.stats()["computations"]
    assert ask() == 4 and cache.stats()["computations"] == before  # the warmed result, with the new sales


def test_a_public_link_being_read_is_warmed_too(make_app):
    app = make_app(PUBLIC_DASHBOARDS=True)
    admin = app.test_client()
    assert admin.login(*ADMIN).status_code == 302
    admin.fetch_csrf("/admin/dashboard")
    board = create(admin, "Public", [widget("p")]).get_json()["dashboard"]["id"]
    url = admin.api("POST", f"/admin/api/dashboards/{board}/share", json={"visibility": "public"}
                    ).get_json()["dashboard"]["public_url"]
    cache = dashboards.cache_of(app)
    clock = [5_000_000.0 * cache.interval]
    cache.clock = lambda: clock[0]
    anonymous = app.test_client()
    assert anonymous.get(f"{url}/data").status_code == 200
    clock[0] += cache.interval
    before = cache.stats()["computations"]
    assert warm.warm_once(app) == 1 and cache.stats()["computations"] == before + 1
    assert "data" in anonymous.get(f"{url}/data").get_json()["results"]["p"][0]
    assert cache.stats()["computations"] == before + 1  # the link's next read is the warmed result


def test_the_warming_loop_runs_beside_the_scheduler_and_stops_with_it(make_app):
    app = make_app(SCHEDULER_ENABLED=True, LIVE_UPDATE_INTERVAL=0.2, SAMPLE_INTERVAL=0.2)
    warmer = app.extensions[warm.EXTENSION]
    cache = dashboards.cache_of(app)
    assert warmer.start() is False  # not without a running scheduler loop
    try:
        admin = app.test_client()
        assert admin.login(*ADMIN).status_code == 302  # the first request starts the scheduler
        admin.fetch_csrf("/admin/dashboard")
        assert wait_for(lambda: warmer.running)
        board = admin.api("GET", "/admin/api/dashboards").get_json()["dashboards"][0]["id"]
        assert admin.api("POST", "/admin/api/widgets/query", json={"dashboard": board}).status_code == 200
        computed = cache.stats()["computations"]
        # Later ticks are computed with no request at all.
        assert wait_for(lambda: cache.stats()["computations"] > computed)
    finally:
        live.stop(app)
    assert not warmer.running
