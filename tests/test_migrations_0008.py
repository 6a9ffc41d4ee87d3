"""Revision 0008 (alert operations) on a database the previous revision left with rows.

Weekly maintenance windows become recurring RRULE windows that mute at the same local times
(Europe/Berlin across the DST change too), every window mutes without a monitor limit; one-off and manual windows and every other row keep
their values; downgrading turns the weekly rules back into weekly windows.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import MetaData, Table

import database
from services.ops import migrations
from services.routing import maintenance
from services.routing.models import MaintenanceWindow
from tests import previous_release
from tests.migration_steps import at_previous_with_rows, up_and_back
from tests.test_migrations import engines, fresh_url, start, version  # noqa: F401 (fixtures)

MINE = "0008_alert_ops"
CREATED = datetime(2026, 3, 1, 12, 0)  # naive UTC, as the old rows hold it
OLD_WINDOWS = [
    {"id": 1, "name": "patch monday", "kind": "weekly", "matchers": [{"label": "team", "op": "=", "value": "ops"}],
     "weekdays": [0], "start_time": "09:00", "duration_minutes": 60, "timezone": "Europe/Berlin"},
    {"id": 2, "name": "backups", "kind": "weekly", "matchers": [], "weekdays": [5, 1], "start_time": "23:30",
     "duration_minutes": 120, "timezone": "UTC"},
    {"id": 3, "name": "db move", "kind": "once", "matchers": [], "weekdays": [],
     "starts_at": datetime(2026, 4, 1, 8), "ends_at": datetime(2026, 4, 1, 10), "timezone": "UTC"},
    {"id": 4, "name": "deploys", "kind": "manual", "matchers": [], "weekdays": [], "timezone": "UTC"},
]


def _at_previous_with_rows(engine) -> None:
    at_previous_with_rows(engine, MINE)
    table = Table("maintenance_windows", MetaData(), autoload_with=engine)
    keys = {k for row in OLD_WINDOWS for k in row}
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"active": False, "created_by": "olduser", "created_at": CREATED,
                                       "starts_at": None, "ends_at": None, "start_time": None,
                                       "duration_minutes": None, **{k: row.get(k) for k in keys}, **row}
                                      for row in OLD_WINDOWS])


def test_weekly_windows_become_rrules_muting_at_the_same_local_times(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    _at_previous_with_rows(engine)
    names = ["users", "alert_rules", "alerts", "alert_notifications", "transactions"]
    before = previous_release.snapshot(engine, names)
    app = start(fresh_url)
    try:
        assert version(engine) == [migrations.head()]
        after = previous_release.snapshot(engine, names, like=before)
        for name in names:
            if name != "alert_rules":  # the start seeds the shipped rules beside the custom one
                assert after[name] == before[name], f"{name} changed on upgrade"
        with database.session_scope(app) as session:
            rows = {w.id: w for w in session.query(MaintenanceWindow)}
            assert sorted(rows) == [1, 2, 3, 4]
            got = {i: (w.kind, w.rrule, w.dtstart, w.duration_minutes, w.timezone) for i, w in rows.items()}
            assert got[1] == ("recurring", "FREQ=WEEKLY;BYDAY=MO", "2026-02-22T09:00", 60, "Europe/Berlin")
            assert got[2] == ("recurring", "FREQ=WEEKLY;BYDAY=TU,SA", "2026-02-22T23:30", 120, "UTC")
            assert got[3][:2] == ("once", None) and rows[3].starts_at == datetime(2026, 4, 1, 8, tzinfo=timezone.utc)
            assert got[4][:2] == ("manual", None) and rows[1].matchers == OLD_WINDOWS[0]["matchers"]
            # Old windows keep muting what they muted: no monitor limit, alerts still open.
            assert {(tuple(w.monitor_ids), w.mode) for w in rows.values()} == {((), "mute")}
            utc = timezone.utc
            # 09:00 Berlin is 08:00 UTC before the change on 2026-03-29 and 07:00 UTC after it.
            assert maintenance.active_until(rows[1], datetime(2026, 3, 23, 8, 30, tzinfo=utc)) == (
                True, datetime(2026, 3, 23, 9, tzinfo=utc))
            assert maintenance.active_until(rows[1], datetime(2026, 3, 30, 7, 30, tzinfo=utc)) == (
                True, datetime(2026, 3, 30, 8, tzinfo=utc))
            assert not maintenance.active_until(rows[1], datetime(2026, 3, 30, 8, 30, tzinfo=utc))[0]
            # Saturday 23:30 for two hours covers the small hours of Sunday.
            assert maintenance.active_until(rows[2], datetime(2026, 3, 8, 1, 0, tzinfo=utc))[0]
            assert not maintenance.active_until(rows[2], datetime(2026, 3, 9, 1, 0, tzinfo=utc))[0]
        client = app.test_client()
        assert client.login(*previous_release.USER).status_code == 302
        shown = {w["id"]: w for w in client.get("/admin/api/maintenance").get_json()["windows"]}
        assert (shown[1]["kind"], shown[1]["rrule"], shown[1]["name"]) == ("recurring", "FREQ=WEEKLY;BYDAY=MO",
                                                                            "patch monday")
        assert shown[1]["next_start"] is not None and shown[3]["next_start"] is None
    finally:
        database.get_engine(app).dispose()


def test_downgrade_turns_the_rules_back_into_weekly_windows(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    _at_previous_with_rows(engine)
    columns = ["id", "name", "kind", "weekdays", "start_time", "duration_minutes", "timezone", "starts_at"]
    before, after = up_and_back(engine, MINE, ["maintenance_windows"], to=MINE)
    pick = lambda snap: [tuple(r[snap[0].index(c)] for c in columns)  # noqa: E731
                         for r in snap[1]]
    old = pick(before["maintenance_windows"])
    old[1] = (*old[1][:3], [1, 5], *old[1][4:])  # the weekdays come back sorted
    assert pick(after["maintenance_windows"]) == old
    assert len(old) == len(OLD_WINDOWS)
