"""Revision 0005 (metric rules) on a database that the previous revision left with rules and alerts.

Shipped and custom rules on the figures that became catalogue metrics turn into rules on those
metrics in place: same ids, their edits (enabled, threshold, snooze, channels) kept, their
alerts still pointing at them, no shipped rule seeded twice; the rest is untouched.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import MetaData, Table, text

import database
from services.ops import migrations
from tests import previous_release
from tests.migration_steps import at_previous_with_rows, up_and_back
from tests.test_migrations import engines, fresh_url, start, version  # noqa: F401 (fixtures)

MINE = "0005_metric_rules"
SNOOZED = datetime(2030, 1, 1, 12, 0)
# As the previous release seeded them, some edited by an admin.
OLD_RULES = [
    (1, "High CPU use", "cpu_percent", 72.0, 300, False, None, {"key": "cpu"}),
    (2, "High memory use", "memory_percent", 85.0, 0, True, SNOOZED, {"key": "memory"}),
    (3, "Failed payments", "failed_payment_rate", 12.5, 0, True, None,
     {"key": "failed_payments", "window_minutes": 60, "min_transactions": 20}),
    (4, "Slow database", "db_latency_ms", 500.0, 0, True, None, {"key": "db_latency"}),
    (5, "Revenue drop", "revenue_vs_baseline", 40.0, 0, True, None, {"key": "revenue_drop", "weeks": 2}),
    (6, "Checkout slow", "avg_response_ms", 800.0, 60, True, None, {}),
]


def _at_previous_with_rows(engine) -> None:
    at_previous_with_rows(engine, MINE)  # also a custom rule 100 on error_rate with two alerts
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    meta = MetaData()
    rules, alerts = (Table(n, meta, autoload_with=engine) for n in ("alert_rules", "alerts"))
    with engine.begin() as conn:
        conn.execute(rules.insert(), [
            {"id": i, "name": name, "metric": metric, "operator": ">", "threshold": threshold,
             "for_seconds": hold, "severity": "warning", "enabled": enabled, "channels": ["email"],
             "params": params, "snoozed_until": snoozed, "builtin": bool(params), "created_at": now,
             "updated_at": now, "labels": {"team": "ops"}, "annotations": {}}
            for i, name, metric, threshold, hold, enabled, snoozed, params in OLD_RULES])
        conn.execute(alerts.insert(), [
            {"id": 10 + i, "rule_id": i, "rule_name": name, "metric": metric, "severity": "warning",
             "status": "resolved" if i % 2 else "firing", "title": f"{name}: {metric} > {threshold:g}",
             "value": threshold + 1, "worst_value": threshold + 2, "threshold": threshold,
             "started_at": now - timedelta(hours=i), "last_seen_at": now - timedelta(minutes=i),
             "auto_resolved": bool(i % 2), "labels": {}, "annotations": {}}
            for i, name, metric, threshold, *_ in OLD_RULES])


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def test_rules_become_catalogue_rules_keeping_ids_edits_and_alerts(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    _at_previous_with_rows(engine)
    before = previous_release.snapshot(engine, ["alerts", "alert_notifications"])
    app = start(fresh_url)
    try:
        assert version(engine) == [migrations.head()]
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(text(
                "SELECT id, name, metric, threshold, for_seconds, enabled, snoozed_until, channels, params, "
                "labels, builtin FROM alert_rules"))}
        assert previous_release.snapshot(engine, ["alerts", "alert_notifications"], like=before) == before

        def params(rule_id):
            return {k: v for k, v in _json(rows[rule_id].params).items() if k != "_before"}

        assert params(1) == {"key": "cpu", "name": "cpu_percent", "match": "", "reducer": "last",
                             "window_seconds": 300, "min_count": 0, "no_data": "keep"}
        assert params(3) == {"key": "failed_payments", "name": "failed_payment_percent", "match": "",
                             "reducer": "avg", "window_seconds": 75 * 60, "min_count": 20, "no_data": "ok"}
        assert params(6)["name"] == "http_response_avg_ms" and params(100)["name"] == "http_error_percent"
        assert [rows[i].metric for i in (1, 2, 3, 4, 5, 6, 100)] == \
            ["metric", "metric", "metric", "db_latency_ms", "revenue_vs_baseline", "metric", "metric"]
        assert _json(rows[5].params) == {"key": "revenue_drop", "weeks": 2}  # not a catalogue figure
        assert (rows[1].threshold, bool(rows[1].enabled), rows[1].for_seconds) == (72.0, False, 300)
        assert rows[2].snoozed_until is not None and _json(rows[2].channels) == ["email"]
        assert _json(rows[2].labels) == {"team": "ops"}
        # Seeding recognised every migrated shipped rule: each name once.
        names = [r.name for r in rows.values()]
        assert len(names) == len(set(names)) and "High error rate" in names

        client = app.test_client()
        assert client.login(*previous_release.USER).status_code == 302
        listed = {r["id"]: r for r in client.get("/admin/api/alerts/rules").get_json()["rules"]}
        assert listed[3]["params"] == {"name": "failed_payment_percent", "match": "", "reducer": "avg",
                                       "window_seconds": 4500, "min_count": 20, "no_data": "ok"}
        history = client.get("/admin/api/alerts?status=all&rule=3").get_json()["alerts"]
        assert [(a["id"], a["rule_id"]) for a in history] == [(13, 3)]
    finally:
        database.get_engine(app).dispose()


def test_downgrade_gives_the_old_rules_back(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    _at_previous_with_rows(engine)
    before, after = up_and_back(engine, MINE, ["alert_rules", "alerts"], to=MINE)
    assert after == before
