"""Revision 0003 (alert labels and routing) on a database that revision 0002 left with rows.

Every rule, alert and notification keeps every value it had, gains empty labels and annotations
(and no group, no source key), and the panel then serves them and takes new alerts beside them.
"""
from __future__ import annotations

import json

from sqlalchemy import text

import database
from services.ops import migrations
from tests import previous_release
from tests.test_migrations import engines, fresh_url, start, version  # noqa: F401 (fixtures)

PREVIOUS = "0002_own_metrics"
ALERT_TABLES = ["alert_rules", "alerts", "alert_notifications"]


def _at_0002_with_rows(engine) -> dict:
    migrations.run(engine, "upgrade", PREVIOUS)
    assert version(engine) == [PREVIOUS]
    figures = previous_release.fill(engine)
    assert all(figures["counts"][name] > 0 for name in ALERT_TABLES)
    return figures


def test_rules_alerts_and_notifications_survive_with_empty_labels(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    figures = _at_0002_with_rows(engine)
    names = sorted(name for name, count in figures["counts"].items() if count)  # every filled table
    assert set(ALERT_TABLES) <= set(names) and len(names) > len(ALERT_TABLES)
    before = previous_release.snapshot(engine, names)

    app = start(fresh_url)
    try:
        assert version(engine) == [migrations.head()]
        assert app.extensions["schema"].previous == PREVIOUS
        after = previous_release.snapshot(engine, names, like=before)
        for name in names:
            if name == "alert_rules":  # the start seeds the shipped rules beside the custom one
                builtin = before[name][0].index("builtin")
                # Revision 0005 turns a rule on error_rate into one on a catalogue metric
                # (tests/test_migrations_0005.py); every other value stays.
                changed = [before[name][0].index(c) for c in ("metric", "params")]
                keep = lambda rows: [tuple(v for i, v in enumerate(r) if i not in changed) for r in rows]  # noqa: E731
                assert keep(r for r in after[name][1] if not r[builtin]) == keep(before[name][1])
            else:
                assert after[name] == before[name], f"{name} changed on upgrade"

        with engine.connect() as conn:
            rules = conn.execute(text("SELECT id, labels, annotations FROM alert_rules WHERE id = 100")).all()
            alerts = conn.execute(text("SELECT id, rule_id, labels, annotations, source_key, threshold "
                                       "FROM alerts ORDER BY id")).all()
            groups = conn.execute(text("SELECT group_key FROM alert_notifications")).scalars().all()
        assert [(r.id, _json(r.labels), _json(r.annotations)) for r in rules] == [(100, {}, {})]
        assert [(a.id, a.rule_id, _json(a.labels), _json(a.annotations), a.source_key, a.threshold)
                for a in alerts] == [(1, 100, {}, {}, None, 5.0), (2, 100, {}, {}, None, 5.0)]
        assert groups == [None]

        client = app.test_client()
        assert client.login(*previous_release.USER).status_code == 302
        detail = client.get("/admin/api/alerts/1").get_json()["alert"]
        assert (detail["title"], detail["labels"], detail["annotations"]) == ("Checkout errors: 7.5 > 5", {}, {})
        assert [n["channel"] for n in detail["notifications"]] == ["webhook"]
        rule = next(r for r in client.get("/admin/api/alerts/rules").get_json()["rules"] if r["id"] == 100)
        assert (rule["labels"], rule["annotations"]) == ({}, {})

        # The new columns work beside the old rows: an alert from code, without a threshold.
        client.fetch_csrf("/admin/")
        raised = client.api("POST", "/admin/api/alerts/external", json={
            "key": "backup-nightly", "title": "Nightly backup failed", "severity": "critical",
            "labels": {"team": "ops"}})
        assert raised.status_code == 200, raised.get_json()
        body = raised.get_json()["alert"]
        assert (body["labels"], body["source_key"], body["threshold"]) == ({"team": "ops"}, "backup-nightly", None)
        firing = client.get("/admin/api/alerts?status=firing").get_json()["alerts"]
        assert sorted(a["title"] for a in firing) == ["Checkout errors: 7.5 > 5", "Nightly backup failed"]
    finally:
        database.get_engine(app).dispose()


def test_downgrade_to_0002_keeps_the_old_rows(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    figures = _at_0002_with_rows(engine)
    before = previous_release.snapshot(engine, ALERT_TABLES)
    migrations.run(engine, "upgrade", "head")
    migrations.run(engine, "downgrade", PREVIOUS)
    assert version(engine) == [PREVIOUS]
    assert previous_release.snapshot(engine, ALERT_TABLES) == before
    assert all(len(before[name][1]) == figures["counts"][name] for name in ALERT_TABLES)


def _json(value):
    """A JSON column as read with raw SQL: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value
