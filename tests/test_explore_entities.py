"""Customer and order pages and their JSON: every transaction paged, revenue per currency, first
seen, repeat purchases, activity, status history; refusals and unknown ids."""
from __future__ import annotations

from tests.helpers import INGEST, activity, transaction

T = "2026-11-20T10:00:00+00:00"


def ingest(client, transactions=(), activities=()):
    resp = client.post("/api/v1/events", headers=INGEST,
                       json={"transactions": list(transactions), "activities": list(activities)})
    assert resp.status_code == 202, resp.get_json()


def shop(client):
    txs = [transaction(f"o{i:02d}", 1000 + i, currency="EUR" if i % 3 == 0 else "USD",
                       status="failed" if i == 4 else "completed", customer_id="alice",
                       at=f"2026-11-{10 + i:02d}T10:00:00Z", channel="web") for i in range(7)]
    txs.append(transaction("other", 99, customer_id="bob", at=T))
    ingest(client, txs, [activity("alice", "login", at="2026-11-09T08:00:00Z"),
                         activity("alice", "search", at=T, detail="shoes"), activity("bob", "login", at=T)])
    return txs


def test_customer_answers_every_figure_and_pages_every_transaction(app, client, admin_client):
    txs = shop(client)
    body = admin_client.get("/admin/api/customers/alice?limit=3").get_json()
    mine = [t for t in txs if t["customer_id"] == "alice"]
    done = [t for t in mine if t["status"] == "completed"]
    assert body["first_seen"] == "2026-11-10T10:00:00+00:00"
    assert (body["transactions_count"], body["orders"], body["repeat_purchases"]) == (7, 6, 5)
    expected = {c: sum(t["amount_cents"] for t in done if t["currency"] == c) for c in ("EUR", "USD")}
    assert {r["currency"]: r["revenue_cents"] for r in body["revenue"]} == expected
    assert [a["action"] for a in body["activities"]] == ["search", "login"]
    seen, page = [], body
    while True:
        seen += [t["id"] for t in page["transactions"]]
        if not page["next_cursor"]:
            break
        page = admin_client.get(f"/admin/api/customers/alice?limit=3&cursor={page['next_cursor']}").get_json()
    assert seen == sorted((t["id"] for t in mine), reverse=True)  # newest first, each once


def test_order_answers_status_history_and_customer(app, client, admin_client):
    ingest(client, [transaction("o1", 500, status="pending", customer_id="alice", at=T)])
    ingest(client, [transaction("o1", 500, status="completed", customer_id="alice", at=T,
                                updated_at="2026-11-20T10:03:00Z")])
    body = admin_client.get("/admin/api/orders/o1").get_json()
    assert body["transaction"]["customer_id"] == "alice" and body["transaction"]["amount_cents"] == 500
    assert [(h["status"], h["at"]) for h in body["history"]] == [
        ("pending", T), ("completed", "2026-11-20T10:03:00+00:00")]


def test_unknown_ids_are_404_and_bad_cursors_400(app, client, admin_client):
    shop(client)
    for path in ("/admin/api/customers/nobody", "/admin/api/orders/none", "/admin/api/orders/" + "x" * 300,
                 "/admin/api/customers/a%00b"):
        resp = admin_client.get(path)
        assert resp.status_code == 404 and resp.get_json()["error"]["message"], path
    resp = admin_client.get("/admin/api/customers/alice?cursor=bm9wZQ")
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "cursor"
    assert admin_client.get("/admin/api/customers/alice?limit=0").status_code == 400


def test_pages_render_and_link(app, client, admin_client):
    shop(client)
    page = admin_client.get("/admin/customers/alice").get_data(as_text=True)
    assert 'data-id="alice"' in page and "js/customer.js" in page
    page = admin_client.get("/admin/orders/o01").get_data(as_text=True)
    assert 'data-id="o01"' in page and "js/order.js" in page
    assert client.get("/admin/orders/o01").status_code == 302  # login first


def test_order_answers_the_lines_it_was_sent_with(app, client, admin_client):
    assert client.post("/api/v1/events", headers=INGEST,
                       json={"products": [{"sku": "MUG-1", "name": "Mug"}]}).status_code == 202
    lines = [{"sku": "MUG-1", "quantity": 2, "amount_cents": 2400},
             {"sku": "GHOST", "quantity": 1, "amount_cents": 2600}]
    ingest(client, [transaction("o1", 5000, currency="EUR", at=T) | {"items": lines},
                    transaction("o2", 700, at=T)])
    items = admin_client.get("/admin/api/orders/o1").get_json()["items"]
    assert [{k: i[k] for k in ("sku", "quantity", "amount_cents")} for i in items] == lines
    assert [(i["name"], i["known"]) for i in items] == [("Mug", True), (None, False)]
    assert admin_client.get("/admin/api/orders/o2").get_json()["items"] == []
    # A re-send with other lines replaces them; the page shows what is stored now.
    ingest(client, [transaction("o1", 5000, currency="EUR", at=T) | {"items": lines[1:]}])
    assert [i["sku"] for i in admin_client.get("/admin/api/orders/o1").get_json()["items"]] == ["GHOST"]
