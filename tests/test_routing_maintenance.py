"""Maintenance windows mute notifications but keep alerts visible (marked muted); a script starts
and stops a manual window with an API token; recurring windows are covered in test_routing_recurrence."""
from __future__ import annotations

from datetime import timedelta

import database
from tests.routing_helpers import (  # noqa: F401 (fixtures)
    add_window, admin_client_for, catch_up, clear, events, fire, rapp, receivers,
)


def token(client, scope):
    resp = client.api("POST", "/admin/api/tokens", json={"name": f"{scope} script", "scope": scope})
    return {"Authorization": f"Bearer {resp.get_json()['secret']}"}


def test_a_script_starts_and_stops_maintenance_with_a_token(rapp, receivers, admin_client_for):
    admin = admin_client_for(rapp)
    window = add_window(rapp, name="deploy", kind="manual", matchers=[{"label": "service", "op": "=", "value": "api"}])
    script = rapp.test_client()
    read, write = token(admin, "read"), token(admin, "read-write")
    refused = script.post(f"/admin/api/maintenance/{window}/start", json={}, headers=read)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "insufficient_scope"
    started = script.post(f"/admin/api/maintenance/{window}/start", json={"minutes": 30}, headers=write)
    assert started.status_code == 200 and started.get_json()["window"]["active_now"] is True

    fire(rapp, "api-5xx", service="api")
    fire(rapp, "db-slow", service="db")
    assert events(receivers.default) == [("fired", ["db-slow is broken"])]
    shown = {a["title"]: a for a in admin.get("/admin/api/alerts?status=active").get_json()["alerts"]}
    assert shown["api-5xx is broken"]["muted_by"] == "deploy" and shown["api-5xx is broken"]["status"] == "firing"
    assert shown["db-slow is broken"]["muted_by"] is None

    stopped = script.post(f"/admin/api/maintenance/{window}/stop", headers=write)
    assert stopped.status_code == 200 and stopped.get_json()["window"]["active_now"] is False
    catch_up(rapp)
    assert events(receivers.default)[-1] == ("fired", ["api-5xx is broken"])
    clear(rapp, "api-5xx")
    assert events(receivers.default)[-1] == ("resolved", ["api-5xx is broken"])


def test_a_window_that_ends_by_itself_releases_what_it_held(rapp, receivers):
    now = database.utcnow()
    add_window(rapp, name="night work", kind="once", starts_at=(now - timedelta(minutes=1)).isoformat(),
               ends_at=(now + timedelta(minutes=10)).isoformat())
    fire(rapp, "batch-late")
    assert receivers.default.bodies == []
    assert catch_up(rapp, now + timedelta(minutes=5)) == []
    assert len(catch_up(rapp, now + timedelta(minutes=11))) == 2  # webhook and e-mail
    assert events(receivers.default) == [("fired", ["batch-late is broken"])]


def test_resolved_during_maintenance_still_reaches_those_told_before(rapp, receivers):
    fire(rapp, "queue-full", service="api")
    add_window(rapp, name="manual", kind="once", starts_at=database.utcnow().isoformat(),
               ends_at=(database.utcnow() + timedelta(hours=1)).isoformat())
    clear(rapp, "queue-full")
    assert events(receivers.default) == [("fired", ["queue-full is broken"]), ("resolved", ["queue-full is broken"])]


def test_bad_windows_are_refused_with_the_field(rapp, admin_client_for):
    admin = admin_client_for(rapp)
    now = database.utcnow()
    cases = [({"name": "x", "kind": "yearly"}, "kind", 400),
             ({"name": "x", "kind": "recurring", "rrule": "FREQ=FORTNIGHTLY", "dtstart": "2026-03-02T09:00",
               "duration_minutes": 5}, "rrule", 400),
             ({"name": "x", "kind": "recurring", "rrule": "FREQ=WEEKLY", "dtstart": "9am",
               "duration_minutes": 5}, "dtstart", 400),
             ({"name": "x", "kind": "recurring", "rrule": "FREQ=WEEKLY", "dtstart": "2026-03-02T09:00",
               "duration_minutes": 5, "timezone": "Mars/Olympus"}, "timezone", 400),
             ({"name": "x", "kind": "once", "starts_at": now.isoformat(), "ends_at": now.isoformat()},
              "ends_at", 400),
             ({"name": "x", "kind": "once", "starts_at": now.isoformat(),
               "ends_at": (now + timedelta(days=30)).isoformat()}, "confirm", 409),
             ({"name": "x", "kind": "manual", "matchers": [{"label": "a", "op": "=~", "value": "("}]},
              "matchers[0].value", 400)]
    for body, field, status in cases:
        resp = admin.api("POST", "/admin/api/maintenance", json=body)
        assert resp.status_code == status and resp.get_json()["error"]["field"] == field, (body, resp.get_json())
    assert admin.get("/admin/api/maintenance").get_json()["windows"] == []
    long = admin.api("POST", "/admin/api/maintenance", json={**cases[5][0], "confirm": True})
    assert long.status_code == 201
