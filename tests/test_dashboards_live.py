"""Each distinct widget query is computed once per tick for every viewer of every dashboard: 50
dashboards of 20 widgets sharing 12 queries cost 12 computations a tick, whoever asks."""
from __future__ import annotations

import itertools

from services import dashboards
from tests.dashboard_helpers import create, sales

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
