"""Recurring maintenance windows: RFC 5545 rules in a named time zone keep their local time when
Europe/Berlin changes to summer time (2026-03-29) and back (2026-10-25); bad rules are refused."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import database
from services.routing import maintenance
from services.routing.models import MaintenanceWindow
from tests.routing_helpers import (  # noqa: F401 (fixtures)
    admin_client_for, catch_up, events, fire, rapp, receivers,
)

UTC = timezone.utc


def recurring(rule, dtstart, minutes=60, tz="Europe/Berlin"):
    return MaintenanceWindow(name="w", kind="recurring", rrule=rule, dtstart=dtstart, duration_minutes=minutes,
                             timezone=tz, matchers=[])


def at(*parts):
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.sqlite_only
def test_weekly_rule_keeps_local_time_across_the_spring_change():
    window = recurring("FREQ=WEEKLY;BYDAY=MO", "2026-03-02T09:00")
    # Monday 2026-03-23, CET (UTC+1): 09:00 local is 08:00 UTC.
    assert maintenance.active_until(window, at(2026, 3, 23, 8, 30)) == (True, at(2026, 3, 23, 9))
    assert not maintenance.active_until(window, at(2026, 3, 23, 7, 30))[0]
    # Monday 2026-03-30, CEST (UTC+2): 09:00 local is 07:00 UTC.
    assert maintenance.active_until(window, at(2026, 3, 30, 7, 30)) == (True, at(2026, 3, 30, 8))
    assert not maintenance.active_until(window, at(2026, 3, 30, 8, 30))[0]
    assert not maintenance.active_until(window, at(2026, 3, 31, 7, 30))[0]  # not on Tuesdays
    # The page's "next" moves with the change as well.
    assert maintenance.to_dict(window, at(2026, 3, 23, 10))["next_start"] == at(2026, 3, 30, 7).isoformat()


@pytest.mark.sqlite_only
def test_weekly_rule_keeps_local_time_across_the_autumn_change():
    window = recurring("FREQ=WEEKLY;BYDAY=SU", "2026-10-04T09:00", minutes=30)
    assert maintenance.active_until(window, at(2026, 10, 18, 7, 10)) == (True, at(2026, 10, 18, 7, 30))
    # Sunday 2026-10-25 is the change itself; 09:00 CET is 08:00 UTC.
    assert not maintenance.active_until(window, at(2026, 10, 25, 7, 10))[0]
    assert maintenance.active_until(window, at(2026, 10, 25, 8, 10)) == (True, at(2026, 10, 25, 8, 30))


@pytest.mark.sqlite_only
def test_local_times_the_change_skips_or_repeats():
    nightly = recurring("FREQ=DAILY", "2026-03-20T02:30", minutes=20)
    # 02:30 does not exist on 2026-03-29: read with the offset before the change (01:30 UTC).
    assert maintenance.active_until(nightly, at(2026, 3, 29, 1, 40)) == (True, at(2026, 3, 29, 1, 50))
    assert maintenance.active_until(nightly, at(2026, 3, 30, 0, 40)) == (True, at(2026, 3, 30, 0, 50))
    # 02:30 happens twice on 2026-10-25: the window runs once, at the first one (00:30 UTC).
    assert maintenance.active_until(nightly, at(2026, 10, 25, 0, 40))[0]
    assert not maintenance.active_until(nightly, at(2026, 10, 25, 1, 40))[0]
    # A duration is elapsed time: 01:00 local for 3 hours on the autumn night ends at 03:00 CET.
    long_night = recurring("FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "2026-01-01T01:00", minutes=180)
    assert maintenance.active_until(long_night, at(2026, 10, 25, 1, 30)) == (True, at(2026, 10, 25, 2))
    assert at(2026, 10, 25, 2).astimezone(ZoneInfo("Europe/Berlin")).hour == 3


@pytest.mark.sqlite_only
def test_a_rule_with_an_end_stops_occurring():
    window = recurring("FREQ=DAILY;UNTIL=20260328T230000Z", "2026-03-20T09:00")  # UNTIL in UTC, RFC 5545
    assert maintenance.active_until(window, at(2026, 3, 28, 8, 30))[0]
    assert not maintenance.active_until(window, at(2026, 3, 29, 7, 30))[0]
    assert maintenance.to_dict(window, at(2026, 3, 29, 12))["next_start"] is None
    counted = recurring("FREQ=MINUTELY;INTERVAL=30;COUNT=2", "2026-03-20T09:00", minutes=10)
    assert maintenance.active_until(counted, at(2026, 3, 20, 8, 35))[0]
    assert not maintenance.active_until(counted, at(2026, 3, 20, 9, 5))[0]


def test_bad_rules_are_refused_naming_the_field(rapp, admin_client_for):
    admin = admin_client_for(rapp)
    base = {"name": "x", "kind": "recurring", "dtstart": "2026-03-02T09:00", "duration_minutes": 30,
            "timezone": "Europe/Berlin"}
    cases = [("FREQ=MINUTELY", "rrule"), ("FREQ=SECONDLY;INTERVAL=5", "rrule"), ("FREQ=WEEKLY;BYDAY=XX", "rrule"),
             ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "rrule"), ("DTSTART:20260302T090000\nRRULE:FREQ=DAILY", "rrule"),
             ("FREQ=DAILY;COUNT=99999", "rrule"), ("", "rrule"), (17, "rrule")]
    for rule, field in cases:
        resp = admin.api("POST", "/admin/api/maintenance", json={**base, "rrule": rule})
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field, (rule, resp.get_json())
    for body, field in (({**base, "rrule": "FREQ=DAILY", "dtstart": "2026-03-02"}, "dtstart"),
                        ({**base, "rrule": "FREQ=DAILY", "duration_minutes": 0}, "duration_minutes"),
                        ({**base, "kind": "weekly"}, "kind")):
        resp = admin.api("POST", "/admin/api/maintenance", json=body)
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field, (body, resp.get_json())
    assert admin.get("/admin/api/maintenance").get_json()["windows"] == []
    ok = admin.api("POST", "/admin/api/maintenance", json={**base, "rrule": "RRULE:FREQ=MINUTELY;COUNT=3"})
    assert ok.status_code == 201 and ok.get_json()["window"]["rrule"] == "FREQ=MINUTELY;COUNT=3"


def test_a_recurring_window_mutes_now_and_releases_after(rapp, receivers, admin_client_for):
    admin = admin_client_for(rapp)
    now = database.utcnow()
    local = now.astimezone(ZoneInfo("Europe/Berlin")) - timedelta(minutes=5)
    resp = admin.api("POST", "/admin/api/maintenance", json={
        "name": "daily backup", "kind": "recurring", "rrule": "FREQ=DAILY", "timezone": "Europe/Berlin",
        "dtstart": local.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": 30,
        "matchers": [{"label": "service", "op": "=", "value": "backup"}]})
    assert resp.status_code == 201, resp.get_json()
    window = resp.get_json()["window"]
    assert window["active_now"] is True
    assert datetime.fromisoformat(window["active_until"]) - now < timedelta(minutes=26)
    fire(rapp, "backup-slow", service="backup")
    assert receivers.default.bodies == []
    shown = admin.get("/admin/api/alerts?status=active").get_json()["alerts"]
    assert [(a["title"], a["muted_by"]) for a in shown] == [("backup-slow is broken", "daily backup")]
    catch_up(rapp, now + timedelta(minutes=31))
    assert events(receivers.default) == [("fired", ["backup-slow is broken"])]
