"""Maintenance windows for service monitors and windows that keep alerts from opening, what the
Maintenance API says is in maintenance, and the confirmation a long or open-ended window needs."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import database
from services.alerts.models import Alert
from services.checks import check_once, service
from tests.checks_target import target  # noqa: F401 (fixture)
from tests.receivers import MEMORY_HIGH, notify_app, only_memory, tick
from tests.test_alert_labels import label_memory_rule
from tests.routing_helpers import admin_client_for, drain, events, receivers  # noqa: F401 (fixtures)


@pytest.fixture
def mapp(make_app, receivers):
    return notify_app(make_app, ALERT_WEBHOOK_URL=receivers.default.url, MONITOR_ALLOW_PRIVATE=True,
                      MONITOR_MIN_INTERVAL=1)


def monitor(app, name, url, **labels):
    with database.session_scope(app) as s:
        return service.create(s, {"name": name, "kind": "http", "url": url, "failure_threshold": 1,
                                  "labels": labels}, min_interval=1).id


def check(app, *ids):
    for mid in ids:
        check_once(app, mid)
    drain(app)


def open_alerts(app):
    with database.session_scope(app) as s:
        return {a.title.split(" is down")[0]: a.labels for a in s.scalars(
            select(Alert).where(Alert.status != "resolved").order_by(Alert.id))}


def told(receivers):
    """(event, monitor) of every alert the default webhook was told about."""
    return [(event, title.split(" is down")[0]) for event, titles in events(receivers.default) for title in titles]


def window(admin, **body):
    resp = admin.api("POST", "/admin/api/maintenance", json={"kind": "manual", **body})
    assert resp.status_code == 201, resp.get_json()
    wid = resp.get_json()["window"]["id"]
    started = admin.api("POST", f"/admin/api/maintenance/{wid}/start", json={"minutes": 60})
    assert started.status_code == 200, started.get_json()
    return wid


def test_a_window_for_one_monitor_mutes_its_alert_and_lists_it(mapp, receivers, admin_client_for, target):
    admin = admin_client_for(mapp)
    shop = monitor(mapp, "shop", target.url, service="shop")
    search = monitor(mapp, "search", target.url + "?s", service="search")
    window(admin, name="shop deploy", monitor_ids=[shop])
    target.status = 503
    check(mapp, shop, search)
    assert sorted(open_alerts(mapp)) == ["Monitor search", "Monitor shop"]
    assert open_alerts(mapp)["Monitor shop"] == {"service": "shop", "monitor": "shop", "monitor_id": str(shop)}
    assert told(receivers) == [("fired", "Monitor search")]  # the shop's alert is open but muted
    body = admin.get("/admin/api/maintenance").get_json()
    covered = body["in_maintenance"]
    assert [(m["name"], m["window"]) for m in covered["monitors"]] == [("shop", "shop deploy")]
    assert covered["monitors"][0]["until"] == body["windows"][0]["active_until"]
    assert [(a["title"].split(" is down")[0], a["window"]) for a in covered["alerts"]] == [("Monitor shop", "shop deploy")]
    assert body["confirm_hours"] == 24


def test_monitor_labels_pick_monitors_and_a_suppressing_window_opens_nothing(mapp, receivers, admin_client_for,
                                                                            target):
    admin = admin_client_for(mapp)
    pay = monitor(mapp, "payments api", target.url, service="payments")
    web = monitor(mapp, "web", target.url + "?w", service="web")
    wid = window(admin, name="payments migration", mode="suppress",
                 matchers=[{"label": "service", "op": "=", "value": "payments"}])
    target.status = 503
    check(mapp, pay, web)
    assert sorted(open_alerts(mapp)) == ["Monitor web"]  # the payments monitor opened no alert
    # Alerts from scripts with the label do not open either; others do.
    quiet = admin.api("POST", "/admin/api/alerts/external", json={
        "key": "ledger-lag", "status": "firing", "title": "Ledger lags", "labels": {"service": "payments"}})
    assert quiet.status_code == 200 and quiet.get_json() == {"alert": None, "changed": False}
    covered = admin.get("/admin/api/maintenance").get_json()["in_maintenance"]
    assert [m["name"] for m in covered["monitors"]] == ["payments api"] and covered["alerts"] == []
    admin.api("POST", f"/admin/api/maintenance/{wid}/stop")
    check(mapp, pay)  # still down once the window is over: now it alerts
    assert sorted(open_alerts(mapp)) == ["Monitor payments api", "Monitor web"]
    assert told(receivers) == [("fired", "Monitor web"), ("fired", "Monitor payments api")]


def test_long_or_open_ended_windows_need_confirmation(make_app, admin_client_for, target):
    app = make_app(MAINTENANCE_CONFIRM_HOURS=2)
    admin = admin_client_for(app)
    wid = admin.api("POST", "/admin/api/maintenance", json={"name": "deploys", "kind": "manual"}).get_json()["window"]["id"]
    for body in ({}, {"minutes": 180}):
        refused = admin.api("POST", f"/admin/api/maintenance/{wid}/start", json=body)
        assert refused.status_code == 409 and refused.get_json()["error"]["field"] == "confirm", body
    assert admin.get("/admin/api/maintenance").get_json()["windows"][0]["active_now"] is False
    assert admin.api("POST", f"/admin/api/maintenance/{wid}/start", json={"minutes": 120}).status_code == 200
    assert admin.api("POST", f"/admin/api/maintenance/{wid}/start", json={"confirm": True}).status_code == 200
    now = database.utcnow()
    once = {"name": "long", "kind": "once", "starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=3)).isoformat()}
    assert admin.api("POST", "/admin/api/maintenance", json=once).status_code == 409
    recurring = {"name": "nightly", "kind": "recurring", "rrule": "FREQ=DAILY", "dtstart": "2026-03-01T01:00",
                 "duration_minutes": 180}
    assert admin.api("POST", "/admin/api/maintenance", json=recurring).status_code == 409
    assert admin.api("POST", "/admin/api/maintenance", json={**recurring, "confirm": True}).status_code == 201
    assert len(admin.get("/admin/api/maintenance").get_json()["windows"]) == 2
    for body, field in (({"name": "x", "kind": "manual", "monitor_ids": [999]}, "monitor_ids[0]"),
                        ({"name": "x", "kind": "manual", "monitor_ids": ["1"]}, "monitor_ids[0]"),
                        ({"name": "x", "kind": "manual", "mode": "silence"}, "mode")):
        resp = admin.api("POST", "/admin/api/maintenance", json=body)
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field, body


def test_a_suppressing_window_keeps_a_rule_from_opening_until_it_ends(mapp, receivers, admin_client_for):
    admin = admin_client_for(mapp)
    only_memory(mapp, ["webhook"])
    label_memory_rule(mapp)  # team=ml, service=trainer
    wid = window(admin, name="trainer upgrade", mode="suppress",
                 matchers=[{"label": "service", "op": "=", "value": "trainer"}])
    tick(mapp, MEMORY_HIGH)
    assert open_alerts(mapp) == {} and receivers.default.bodies == []
    admin.api("POST", f"/admin/api/maintenance/{wid}/stop")
    tick(mapp, MEMORY_HIGH)
    assert len(open_alerts(mapp)) == 1 and [e for e, _ in events(receivers.default)] == ["fired"]
