"""The ``top_products`` panel list: the Products page's best sellers as a widget (table, bar, pie),
equal to /admin/api/products/top for the same range and to the lines ingested; its query checked
like the other lists; on both databases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.dashboard_helpers import create, widget
from tests.helpers import INGEST, transaction

CATALOGUE = [{"sku": "MUG-1", "name": "Mug"}, {"sku": "TEE-2", "name": "T-shirt"}, {"sku": "CAP-3", "name": "Cap"}]


def shop(client):
    """Completed, failed and refunded orders with lines over the last two days, in USD and EUR."""
    now = datetime.now(timezone.utc)

    def order(tid, hours, lines, currency="USD", status="completed"):
        items = [{"sku": s, "quantity": q, "amount_cents": a} for s, q, a in lines]
        return transaction(tid, sum(a for _, _, a in lines), currency=currency, status=status,
                           at=now - timedelta(hours=hours), items=items)

    txs = [order("p1", 1, [("MUG-1", 2, 2400), ("TEE-2", 1, 1500)]),
           order("p2", 30, [("TEE-2", 5, 7500)]),
           order("p3", 3, [("CAP-3", 9, 900), ("GONE-9", 1, 100)]),
           order("p4", 2, [("MUG-1", 4, 4800)], status="failed"),
           order("p5", 5, [("CAP-3", 1, 100)], status="refunded"),
           order("p6", 4, [("MUG-1", 1, 1300)], currency="EUR")]
    answer = client.post("/api/v1/events", headers=INGEST, json={"products": CATALOGUE, "transactions": txs})
    assert answer.status_code == 202, answer.get_json()
    return txs


def expected(txs, currency, by):
    """(name, ranked figure, other figure) per sku from the completed lines sent, best first."""
    sums: dict[str, list[int]] = {}
    for t in txs:
        if t["currency"] == currency and t["status"] == "completed":
            for line in t["items"]:
                s = sums.setdefault(line["sku"], [0, 0])
                s[0] += line["quantity"]
                s[1] += line["amount_cents"]
    names = {p["sku"]: p["name"] for p in CATALOGUE}
    rank = (lambda kv: (-kv[1][1], -kv[1][0], kv[0])) if by == "revenue" else (lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    pick = (1, 0) if by == "revenue" else (0, 1)
    return [[names.get(sku, sku), v[pick[0]], v[pick[1]], sku] for sku, v in sorted(sums.items(), key=rank)]


def batch(client, *queries):
    answer = client.api("POST", "/admin/api/widgets/query", json={"queries": list(queries)})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["results"]


def test_top_products_equals_the_best_sellers_api_and_the_lines_sent(admin_client, client):
    txs = shop(client)
    base = {"kind": "panel", "panel": "top_products", "range": "7d"}
    by_revenue, by_units, eur, short = (r["data"] for r in batch(
        admin_client, base, {**base, "by": "units"}, {**base, "currency": "EUR"}, {**base, "limit": 2}))
    assert by_revenue["columns"] == ["product", "revenue_cents", "units", "sku"]
    assert by_revenue["rows"] == expected(txs, "USD", "revenue") and by_revenue["currency"] == "USD"
    assert by_units["columns"] == ["product", "units", "revenue_cents", "sku"]
    assert by_units["rows"] == expected(txs, "USD", "units")
    assert by_revenue["rows"] != by_units["rows"]  # CAP-3 sells most units, TEE-2 most revenue
    assert eur["rows"] == expected(txs, "EUR", "revenue") and eur["currency"] == "EUR"
    assert short["rows"] == expected(txs, "USD", "revenue")[:2]
    for data, params in ((by_revenue, {"by": "revenue"}), (by_units, {"by": "units"}),
                         (eur, {"currency": "EUR"})):
        api = admin_client.get("/admin/api/products/top", query_string={
            "start": data["start"], "end": data["end"], "limit": 10, **params}).get_json()
        assert (api["start"], api["end"], api["currency"]) == (data["start"], data["end"], data["currency"])
        figures = data["columns"][1:3]
        assert [[p["sku"], p[figures[0]], p[figures[1]]] for p in api["products"]] == [
            [r[3], r[1], r[2]] for r in data["rows"]]


def test_top_products_widgets_save_and_bad_queries_name_the_field(admin_client):
    query = {"kind": "panel", "panel": "top_products", "range": "30d", "by": "units", "limit": 5}
    saved = create(admin_client, widgets=[widget("t", "table", query), widget("b", "bar", query, y=2),
                                          widget("p", "pie", query, y=4)])
    assert saved.status_code == 201, saved.get_json()
    assert [w["queries"][0]["by"] for w in saved.get_json()["dashboard"]["widgets"]] == ["units"] * 3
    cases = [({**query, "by": "price"}, "by"), ({**query, "limit": 0}, "limit"), ({**query, "limit": 51}, "limit"),
             ({**query, "field": "units"}, "field"), ({**query, "currency": "EURO"}, "currency"),
             ({**query, "range": "1y"}, "range"), ({**query, "metric": "orders"}, "metric"),
             ({"kind": "panel", "panel": "top_customers", "by": "units"}, "by"),
             ({"metric": "orders", "by": "units"}, "by")]
    for q, field in cases:
        refused = admin_client.api("POST", "/admin/api/widgets/query", json={"queries": [q]})
        assert refused.status_code == 400, q
        assert refused.get_json()["error"]["field"] == f"body.queries[0].{field}", refused.get_json()
