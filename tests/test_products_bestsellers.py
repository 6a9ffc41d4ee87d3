"""Best sellers and the product list: figures equal sums over the raw lines of completed
transactions, across a status change and a currency mix, through the JSON API."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from tests.helpers import INGEST

URL = "/admin/api/products"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
SKUS = [f"SKU-{i}" for i in range(12)]
CATEGORY = {sku: ("Kitchen", "Garden", None)[i % 3] for i, sku in enumerate(SKUS)}


def _batch(rng, count, start):
    txs = []
    for i in range(count):
        currency = rng.choice(("USD", "EUR"))
        lines = [{"sku": rng.choice(SKUS), "quantity": rng.randint(1, 4), "amount_cents": rng.randint(100, 5000)}
                 for _ in range(rng.randint(1, 3))]
        txs.append({"id": f"o{start + i}", "amount_cents": sum(l["amount_cents"] for l in lines) + rng.randint(0, 500),
                    "currency": currency, "status": rng.choice(("completed", "completed", "pending", "failed")),
                    "customer_id": f"c{i % 7}", "items": lines,
                    "created_at": (NOW - timedelta(hours=rng.randint(1, 24 * 20), minutes=rng.randint(0, 59))).isoformat()})
    return txs


def _expected(txs):
    """Units and revenue per (currency, sku) and per (currency, category), from the raw lines."""
    per_sku = defaultdict(lambda: [0, 0])
    for tx in txs.values():
        if tx["status"] != "completed":
            continue
        for line in tx["items"]:
            per_sku[(tx["currency"], line["sku"])][0] += line["quantity"]
            per_sku[(tx["currency"], line["sku"])][1] += line["amount_cents"]
    return per_sku


def _ingest(client, admin_client, seed=7):
    rng = random.Random(seed)
    products = [{"sku": s, "name": f"Product {s}", **({"category": CATEGORY[s]} if CATEGORY[s] else {}),
                 "stock": 50} for s in SKUS[:-1]]  # the last sku stays unknown
    assert client.post("/api/v1/events", json={"products": products}, headers=INGEST).status_code == 202
    txs = {tx["id"]: tx for tx in _batch(rng, 150, 0)}
    r = client.post("/api/v1/events", json={"transactions": list(txs.values())}, headers=INGEST)
    assert r.status_code == 202 and r.get_json()["unknown_skus"] == [SKUS[-1]]
    # A status change: some completed orders refunded, some pending ones completed.
    changed = []
    for tx in list(txs.values())[:60]:
        status = {"completed": "refunded", "pending": "completed"}.get(tx["status"])
        if status:
            tx = {**tx, "status": status}
            txs[tx["id"]] = tx
            changed.append({k: v for k, v in tx.items() if k != "items"})  # lines not re-sent
    assert client.post("/api/v1/events", json={"transactions": changed}, headers=INGEST).status_code == 202
    return txs


def test_top_products_and_categories_equal_the_raw_lines(app, client, admin_client):
    txs = _ingest(client, admin_client)
    expected = _expected(txs)
    start = (NOW - timedelta(days=30)).isoformat()
    for currency in ("USD", "EUR"):
        want = {sku: v for (c, sku), v in expected.items() if c == currency}
        for by, index in (("revenue", 1), ("units", 0)):
            body = admin_client.get(URL + "/top", query_string={
                "by": by, "currency": currency, "limit": 100, "start": start}).get_json()
            got = {p["sku"]: [p["units"], p["revenue_cents"]] for p in body["products"]}
            assert got == want
            figures = [p["revenue_cents" if by == "revenue" else "units"] for p in body["products"]]
            assert figures == sorted(figures, reverse=True)
            assert body["revenue_cents"] == sum(v[1] for v in want.values())
            cats = defaultdict(lambda: [0, 0])
            for sku, (units, revenue) in want.items():
                cats[CATEGORY[sku] if sku != SKUS[-1] else None][0] += units
                cats[CATEGORY[sku] if sku != SKUS[-1] else None][1] += revenue
            assert {c["category"]: [c["units"], c["revenue_cents"]] for c in body["categories"]} == dict(cats)
            unknown = [p for p in body["products"] if p["sku"] == SKUS[-1]]
            assert all(not p["known"] and p["name"] is None for p in unknown)


def test_product_list_figures_filters_sorting_and_paging(app, client, admin_client):
    txs = _ingest(client, admin_client, seed=11)
    expected = _expected(txs)
    client.post("/api/v1/events", headers=INGEST, json={"products": [
        {"sku": SKUS[0], "stock": 2}, {"sku": SKUS[1], "active": False}, {"sku": SKUS[2], "stock": 9,
                                                                          "low_stock_threshold": 10}]})
    start = (NOW - timedelta(days=30)).isoformat()
    body = admin_client.get(URL, query_string={"currency": "EUR", "start": start, "limit": 500}).get_json()
    assert body["total"] == len(SKUS) - 1
    assert {p["sku"]: [p["units"], p["revenue_cents"]] for p in body["products"]} == {
        sku: expected.get(("EUR", sku), [0, 0]) for sku in SKUS[:-1]}
    assert (body["active_products"], body["low_stock_products"]) == (len(SKUS) - 2, 2)
    states = {p["sku"]: p["state"] for p in body["products"]}
    assert (states[SKUS[0]], states[SKUS[1]], states[SKUS[2]], states[SKUS[3]]) == ("low", "inactive", "low", "in_stock")
    low = admin_client.get(URL, query_string={"state": "low", "sort": "stock"}).get_json()["products"]
    assert [p["sku"] for p in low] == [SKUS[0], SKUS[2]] and all(p["low_since"] for p in low)
    by_revenue = admin_client.get(URL, query_string={"currency": "EUR", "start": start, "sort": "revenue",
                                                     "order": "desc"}).get_json()["products"]
    assert [p["revenue_cents"] for p in by_revenue] == sorted((p["revenue_cents"] for p in by_revenue), reverse=True)
    garden = admin_client.get(URL, query_string={"category": "Garden"}).get_json()["products"]
    assert sorted(p["sku"] for p in garden) == sorted(s for s in SKUS[:-1] if CATEGORY[s] == "Garden")
    found = admin_client.get(URL, query_string={"q": "sku-1"}).get_json()["products"]
    assert sorted(p["sku"] for p in found) == ["SKU-1", "SKU-10"]
    pages = [admin_client.get(URL, query_string={"limit": 4, "offset": o, "sort": "sku"}).get_json()["products"]
             for o in (0, 4, 8)]
    assert [p["sku"] for page in pages for p in page] == sorted(SKUS[:-1])


def test_bad_parameters_are_refused_naming_the_field(app, admin_client):
    for path, args, field in ((URL, {"sort": "colour"}, "sort"), (URL, {"state": "x"}, "state"),
                              (URL, {"order": "up"}, "order"), (URL, {"limit": "0"}, "limit"),
                              (URL + "/top", {"by": "profit"}, "by"), (URL + "/top", {"currency": "EURO"}, "currency"),
                              (URL + "/top", {"start": "2026-11-20", "end": "2026-11-19"}, "end"),
                              (URL, {"start": "yesterday"}, "start")):
        r = admin_client.get(path, query_string=args)
        assert r.status_code == 400, (path, args)
        assert r.get_json()["error"]["field"] == field, (path, args, r.get_json())
