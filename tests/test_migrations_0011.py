"""Revision 0011 (settings contact points) on a database the previous revision left with rows.

The settings' webhook URL and recipients become the contact points ``webhook`` and ``email``,
following the settings; a contact point made on the page keeps every value; no row of any other
table changes (notifications keep their channel names, so the delivery history reads on);
downgrading removes the two and keeps the rest.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import MetaData, Table, text

from services.ops import migrations
from tests import previous_release
from tests.migration_steps import at_previous_with_rows, filled_tables, previous, up_and_back
from tests.test_migrations import engines, fresh_url, version  # noqa: F401 (fixtures)

MINE = "0011_settings_contact_points"
SETTINGS = {"ALERT_WEBHOOK_URL": "https://chat.example.com/hooks/T0/secret", "SMTP_TO": "ops@example.com, a@b.c"}
TEAM = {"id": 7, "name": "ML chat", "kind": "webhook", "url": "https://ml.example.com/hook", "addresses": [],
        "last_test": None, "created_at": datetime(2026, 5, 1, 9, 0), "updated_at": datetime(2026, 5, 2, 9, 0)}


def _at_previous_with_rows(engine) -> list[str]:
    names = filled_tables(at_previous_with_rows(engine, MINE))
    with engine.begin() as conn:
        conn.execute(Table("contact_points", MetaData(), autoload_with=conn).insert(), [TEAM])
    return names + ["contact_points"]


def test_the_settings_become_two_contact_points_and_no_row_changes(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    names = _at_previous_with_rows(engine)
    before = previous_release.snapshot(engine, names)
    assert "alert_notifications" in names

    migrations.run(engine, "upgrade", MINE, settings=SETTINGS)
    assert version(engine) == [MINE]
    after = previous_release.snapshot(engine, names, like=before)
    for name in names:
        if name != "contact_points":
            assert after[name] == before[name], f"{name} changed on upgrade"
    with engine.connect() as conn:
        points = conn.execute(text("SELECT id, name, kind, url, addresses, source FROM contact_points "
                                   "ORDER BY name")).all()
    got = {p.name: p for p in points}
    assert sorted(got) == ["ML chat", "email", "webhook"]
    assert (got["ML chat"].id, got["ML chat"].url, got["ML chat"].source) == (7, TEAM["url"], "page")
    assert (got["webhook"].kind, got["webhook"].url, got["webhook"].source) == ("webhook", SETTINGS["ALERT_WEBHOOK_URL"],
                                                                                 "settings")
    addresses = got["email"].addresses
    addresses = addresses if isinstance(addresses, list) else json.loads(addresses)
    assert (got["email"].kind, addresses, got["email"].source) == ("email", ["ops@example.com", "a@b.c"], "settings")


def test_without_settings_the_two_exist_unconfigured(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    at_previous_with_rows(engine, MINE)
    migrations.run(engine, "upgrade", MINE, settings={})
    with engine.connect() as conn:
        points = conn.execute(text("SELECT name, url, source FROM contact_points ORDER BY name")).all()
    assert [tuple(p) for p in points] == [("email", None, "settings"), ("webhook", None, "settings")]


def test_downgrade_removes_the_two_and_keeps_the_page_ones(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    names = _at_previous_with_rows(engine)
    before, after = up_and_back(engine, MINE, names)
    assert after == before
    assert version(engine) == [previous(MINE)]
