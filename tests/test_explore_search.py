"""GET /admin/api/search: each kind is found (order id, customer id, alert, log text), grouped and
linked; exact ids first; refusals name the field."""
from __future__ import annotations

from datetime import timedelta

import database
from services.alerts import Alert
from tests.helpers import INGEST, transaction


def seed(app, client):
    txs = [transaction("ord-1001", 1200, customer_id="acme-7"), transaction("ord-10015", 300, customer_id="acme-70"),
           transaction("ord-2000", 99, customer_id="zed")]
    now = database.utcnow()
    logs = [{"service": "payments", "level": "error", "message": "card declined for ord-2000"},
            {"service": "payments", "level": "info", "message": "old declined", "created_at": (now - timedelta(days=9)).isoformat()}]
    assert client.post("/api/v1/events", headers=INGEST, json={"transactions": txs, "logs": logs}).status_code == 202
    with database.session_scope(app) as s:
        s.add(Alert(rule_name="Checkout", metric="error_rate", severity="critical", status="firing",
                    title="Checkout declined payments", labels={}, annotations={}))
        s.commit()
        return s.query(Alert.id).scalar()


def groups(admin_client, q):
    resp = admin_client.get("/admin/api/search", query_string={"q": q})
    assert resp.status_code == 200, resp.get_json()
    return {g["kind"]: g["hits"] for g in resp.get_json()["groups"]}


def test_each_kind_is_found_and_linked(app, client, admin_client):
    alert_id = seed(app, client)
    found = groups(admin_client, "ord-1001")
    assert [h["title"] for h in found["orders"]] == ["ord-1001", "ord-10015"]  # exact first, then prefix
    assert found["orders"][0]["href"] == "/admin/orders/ord-1001"
    assert groups(admin_client, "acme-7")["customers"][0] == {
        "id": "acme-7", "title": "acme-7", "detail": "customer", "href": "/admin/customers/acme-7"}
    assert [h["title"] for h in groups(admin_client, "acme")["customers"]] == ["acme-7", "acme-70"]
    found = groups(admin_client, "declined")
    assert [h["href"] for h in found["alerts"]] == [f"/admin/alerts?alert={alert_id}"]
    assert [h["title"] for h in found["logs"]] == ["card declined for ord-2000"]  # the 9-day-old line is past the bound
    assert set(groups(admin_client, f"#{alert_id}")) == {"alerts"}
    assert groups(admin_client, "nothing-like-this") == {}
    for path in (h["href"] for hits in groups(admin_client, "ord-2000").values() for h in hits):
        assert admin_client.get(path).status_code == 200, path


def test_bad_queries_are_refused(app, admin_client):
    for q in ("", "a", "x" * 201):
        resp = admin_client.get("/admin/api/search", query_string={"q": q})
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "q"


def test_products_are_found_by_sku_then_name_word_and_link_to_the_filtered_products_page(app, client, admin_client):
    catalogue = [{"sku": "MUG-1", "name": "Red mug"}, {"sku": "MUG-10", "name": "Blue mug large", "stock": 4},
                 {"sku": "MUG-2", "name": "Plain cup", "active": False}, {"sku": "TEA-9", "name": "Green 100% tea"}]
    assert client.post("/api/v1/events", headers=INGEST, json={"products": catalogue}).status_code == 202
    found = groups(admin_client, "MUG-1")["products"]
    assert [h["id"] for h in found] == ["MUG-1", "MUG-10"]  # exact first, then prefix
    assert found[0] == {"id": "MUG-1", "title": "MUG-1 · Red mug", "detail": "stock not tracked",
                        "href": "/admin/products?q=MUG-1"}
    assert [h["detail"] for h in groups(admin_client, "MUG")["products"]] == ["stock not tracked", "stock 4", "inactive"]
    # Name words (any case), sku hits not repeated; the middle of a word is not a word.
    assert [h["id"] for h in groups(admin_client, "mug")["products"]] == ["MUG-10", "MUG-1"]
    assert [h["id"] for h in groups(admin_client, "Cup")["products"]] == ["MUG-2"]
    assert [h["id"] for h in groups(admin_client, "100%")["products"]] == ["TEA-9"]
    assert "products" not in groups(admin_client, "ug") and "products" not in groups(admin_client, "0%")
    # The link opens the Products page, whose table asks the products API with that text.
    assert admin_client.get(found[0]["href"]).status_code == 200
    listed = admin_client.get("/admin/api/products", query_string={"q": "MUG-10"}).get_json()["products"]
    assert [p["sku"] for p in listed] == ["MUG-10"]
