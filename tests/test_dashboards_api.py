"""Dashboards API: create, read, save with a version (409 when stale), delete, export/import,
and strict validation naming the field; on both databases."""
from __future__ import annotations

from tests.dashboard_helpers import create, sales, widget


def _count(client) -> int:
    return len(client.get("/admin/api/dashboards").get_json()["dashboards"])


def test_create_read_update_delete(admin_client):
    made = create(admin_client, widgets=[widget("a"), widget("b", "line", x=3)])
    assert made.status_code == 201, made.get_json()
    d = made.get_json()["dashboard"]
    assert (d["title"], d["visibility"], d["version"]) == ("Sales", "private", 1)
    assert [w["id"] for w in d["widgets"]] == ["a", "b"]
    assert d["widgets"][1]["gridPos"] == {"x": 3, "y": 0, "w": 3, "h": 2}

    read = admin_client.get(f"/admin/api/dashboards/{d['id']}").get_json()["dashboard"]
    assert read["widgets"] == d["widgets"]
    moved = [dict(w) for w in read["widgets"]]
    moved[0]["gridPos"] = {"x": 6, "y": 2, "w": 4, "h": 3}
    saved = admin_client.api("PUT", f"/admin/api/dashboards/{d['id']}",
                             json={"version": 1, "title": "Sales 2", "widgets": moved})
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()["dashboard"]
    assert (body["title"], body["version"], body["widgets"][0]["gridPos"]) == (
        "Sales 2", 2, {"x": 6, "y": 2, "w": 4, "h": 3})

    gone = admin_client.api("DELETE", f"/admin/api/dashboards/{d['id']}")
    assert gone.status_code == 200
    assert admin_client.get(f"/admin/api/dashboards/{d['id']}").status_code == 404


def test_a_stale_version_is_refused_and_changes_nothing(admin_client):
    d = create(admin_client).get_json()["dashboard"]
    first = admin_client.api("PUT", f"/admin/api/dashboards/{d['id']}", json={"version": 1, "title": "Mine"})
    assert first.status_code == 200
    # A second editor who also read version 1 saves afterwards: refused, not merged.
    second = admin_client.api("PUT", f"/admin/api/dashboards/{d['id']}",
                              json={"version": 1, "title": "Theirs", "widgets": []})
    assert second.status_code == 409
    assert second.get_json()["error"]["current_version"] == 2
    now = admin_client.get(f"/admin/api/dashboards/{d['id']}").get_json()["dashboard"]
    assert (now["title"], now["version"], len(now["widgets"])) == ("Mine", 2, 1)


def test_bad_input_names_the_field_and_stores_nothing(admin_client):
    before = _count(admin_client)
    cases = [
        ({"title": ""}, "body.title"),
        ({"title": "x", "widgets": [widget(x=11)]}, "body.widgets[0].gridPos.w"),
        ({"title": "x", "widgets": [widget(kind="donut")]}, "body.widgets[0].type"),
        ({"title": "x", "widgets": [widget(query={"metric": "x; DROP TABLE users", "range": "24h"})]},
         "body.widgets[0].queries[0].metric"),
        ({"title": "x", "widgets": [widget(query={"metric": "orders", "range": "2y"})]},
         "body.widgets[0].queries[0].range"),
        ({"title": "x", "widgets": [widget(query={"metric": "orders", "tz": "Mars/Base"})]},
         "body.widgets[0].queries[0].tz"),
        ({"title": "x", "widgets": [widget(query={"kind": "panel", "panel": "sql"})]},
         "body.widgets[0].queries[0].panel"),
        ({"title": "x", "widgets": [widget(thresholds=[{"value": 1, "color": "red"}])]},
         "body.widgets[0].options.thresholds[0].color"),
        ({"title": "x", "widgets": [widget("a"), widget("a")]}, "body.widgets[1].id"),
        ({"title": "x", "sql": "select 1"}, "body.sql"),
    ]
    for body, field in cases:
        answer = create(admin_client, **{k: v for k, v in body.items() if k not in ("title", "widgets")},
                        title=body.get("title"), widgets=body.get("widgets", []))
        assert answer.status_code == 400, (body, answer.get_json())
        assert answer.get_json()["error"]["field"] == field, answer.get_json()
    assert _count(admin_client) == before


def test_export_then_import_gives_the_same_widgets(admin_client, app):
    sales(app)
    d = create(admin_client, widgets=[widget("a"), widget("t", "table", {"kind": "panel", "panel": "top_customers"})]
               ).get_json()["dashboard"]
    doc = admin_client.get(f"/admin/api/dashboards/{d['id']}/export").get_json()
    assert doc["format"] == "dashboard/v1" and doc["widgets"] == d["widgets"]
    copy = admin_client.api("POST", "/admin/api/dashboards/import", json=doc)
    assert copy.status_code == 201, copy.get_json()
    body = copy.get_json()["dashboard"]
    assert body["id"] != d["id"] and body["widgets"] == d["widgets"] and body["visibility"] == "private"
    bad = admin_client.api("POST", "/admin/api/dashboards/import", json={**doc, "format": "grafana"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "body.format"


def test_widget_batch_answers_each_query_with_the_metric_query_figures(admin_client, app):
    sales(app)
    q = {"metric": "revenue_cents", "agg": "sum", "reduce": "sum", "range": "24h", "currency": "USD"}
    answer = admin_client.api("POST", "/admin/api/widgets/query", json={"queries": [
        q, {"metric": "orders", "agg": "sum", "group_by": [], "reduce": "sum", "range": "24h"},
        {"metric": "revenue_cents", "agg": "rate", "range": "1h"}]})
    assert answer.status_code == 200, answer.get_json()
    first, second, third = answer.get_json()["results"]
    assert first["data"]["value"] == 1250 + 4000 + 2500 and first["data"]["currency"] == "USD"
    assert second["data"]["value"] == 4  # completed, both currencies
    assert third["error"]["field"] == "query.agg"
    refused = admin_client.api("POST", "/admin/api/widgets/query", json={"queries": [{**q, "sql": "1"}]})
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "body.queries[0].sql"


def test_two_saves_racing_from_the_same_version_one_wins_one_conflicts(app, admin_client):
    """Both requests read version 1 before either writes: the row's version check refuses the second."""
    import pytest

    import database
    from services.accounts.models import User
    from services.dashboards import service

    d = create(admin_client).get_json()["dashboard"]["id"]
    with database.session_scope(app) as one, database.session_scope(app) as two:
        admin = one.query(User).filter_by(username="admin").one()
        first = service.get(one, d, admin)
        second = service.get(two, d, two.get(User, admin.id))
        assert first.version == second.version == 1
        service.update(one, d, {"version": 1, "title": "First"}, admin, False)
        one.commit()
        with pytest.raises(service.Conflict) as conflict:
            service.update(two, d, {"version": 1, "title": "Second"}, two.get(User, admin.id), False)
        assert conflict.value.current == 2
    final = admin_client.get(f"/admin/api/dashboards/{d}").get_json()["dashboard"]
    assert (final["title"], final["version"]) == ("First", 2)
