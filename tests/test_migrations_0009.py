"""Revision 0009 (dashboards) on a database that the previous revision left with rows: every row
stays as it was, the default layout is made on the first start, and dashboards work beside the
old data (revenue widgets read the old transactions)."""
from __future__ import annotations

from sqlalchemy import text

import database
from services.ops import migrations
from tests import previous_release
from tests.migration_steps import at_previous_with_rows, filled_tables, up_and_back
from tests.test_migrations import engines, fresh_url, start, version  # noqa: F401 (fixtures)

MINE = "0009_dashboards"


def test_upgrade_keeps_every_row_and_adds_the_default_dashboard(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    names = filled_tables(at_previous_with_rows(engine, MINE))
    assert "transactions" in names and "users" in names
    before = previous_release.snapshot(engine, names)

    app = start(fresh_url)
    try:
        assert version(engine) == [migrations.head()]
        after = previous_release.snapshot(engine, names, like=before)
        for name in names:
            if name == "alert_rules":  # the start seeds the shipped rules beside the old ones
                builtin = before[name][0].index("builtin")
                assert [r for r in after[name][1] if not r[builtin]] == [r for r in before[name][1] if not r[builtin]]
            else:
                assert after[name] == before[name], f"{name} changed on upgrade"
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT title, is_default, owner_id FROM dashboards")).all()
        assert [(r.title, bool(r.is_default), r.owner_id) for r in rows] == [("Business overview", True, None)]

        client = app.test_client()
        assert client.login(*previous_release.USER).status_code == 302
        client.fetch_csrf("/admin/dashboard")
        listed = client.get("/admin/api/dashboards").get_json()["dashboards"]
        assert [d["title"] for d in listed] == ["Business overview"]
        made = client.api("POST", "/admin/api/dashboards", json={"title": "Orders", "widgets": [{
            "id": "o", "type": "metric_card", "title": "Orders 30 d", "gridPos": {"x": 0, "y": 0, "w": 3, "h": 2},
            "queries": [{"metric": "orders", "agg": "sum", "group_by": [], "reduce": "sum", "range": "30d"}]}]})
        assert made.status_code == 201, made.get_json()
        ran = client.api("POST", "/admin/api/widgets/query",
                         json={"dashboard": made.get_json()["dashboard"]["id"]}).get_json()
        direct = client.get("/admin/api/metrics/query?name=orders&agg=sum&group_by=&step=1h&start="
                            + ran["results"]["o"][0]["data"]["start"].replace("+", "%2B")).get_json()
        assert ran["results"]["o"][0]["data"]["value"] == sum(p[1] for s in direct["series"] for p in s["points"])
        assert ran["results"]["o"][0]["data"]["value"] > 0
    finally:
        database.get_engine(app).dispose()


def test_downgrade_drops_only_the_dashboards(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    names = filled_tables(at_previous_with_rows(engine, MINE))
    before, after = up_and_back(engine, MINE, names)
    assert after == before
