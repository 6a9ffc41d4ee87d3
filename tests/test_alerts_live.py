"""Alert changes reach the admins' sockets and the in-process topic, from a tick and from the API."""
from __future__ import annotations

from sqlalchemy import select

import database
from tests.alert_inputs import feed
from services.alerts import Alert, AlertRule
from services.alerts import dispatch as alert_dispatch
from services.live import periodic_job_definitions
from services.infra import bus as events
from services.infra import topics
from services.live import scheduler as live

HOT = {"system": {"cpu_percent": 5.0, "memory_percent": 99.0, "disk_percent": 10.0}}
OK = {"system": {"cpu_percent": 5.0, "memory_percent": 20.0, "disk_percent": 10.0}}


def alert_events(sc):
    return [e["args"][0] for e in sc.get_received() if e["name"] == "alert"]


def only_memory(app):
    with database.session_scope(app) as session:
        for rule in session.scalars(select(AlertRule)):
            rule.enabled = (rule.params or {}).get("key") == "memory"
            rule.channels = []


def test_alert_events_reach_the_admin_room_through_the_periodic_job(app, socket_client):
    assert [job.run for job in periodic_job_definitions(app) if job.name == "evaluate_alert_rules"] == [
        alert_dispatch.on_tick]
    only_memory(app)
    socket_client.emit("join_admin_room")
    socket_client.get_received()
    heard = []
    events.subscribe(topics.ALERT_CHANGED, heard.append)
    try:
        with database.session_scope(app) as session:
            feed(session, HOT, database.utcnow())
        with database.session_scope(app) as session:
            alert_dispatch.on_tick(app, session, HOT)
        got = alert_events(socket_client)
        assert [(e["event"], e["alert"]["rule"], e["firing"]) for e in got] == [("fired", "High memory use", 1)]
        assert got[0]["alert"]["value"] == 99.0
        with database.session_scope(app) as session:
            feed(session, OK, database.utcnow())
        with database.session_scope(app) as session:
            alert_dispatch.on_tick(app, session, OK)
        got = alert_events(socket_client)
        assert [(e["event"], e["firing"], e["alert"]["auto_resolved"]) for e in got] == [("resolved", 0, True)]
        assert [h["event"] for h in heard] == ["fired", "resolved"]
    finally:
        events.unsubscribe(topics.ALERT_CHANGED, heard.append)


def test_acknowledge_from_the_api_is_pushed_live(app, admin_client, socket_client):
    only_memory(app)
    with database.session_scope(app) as session:
        feed(session, HOT, database.utcnow())
    with database.session_scope(app) as session:
        alert_dispatch.on_tick(app, session, HOT)
        alert_id = session.scalar(select(Alert.id))
    socket_client.emit("join_admin_room")
    socket_client.get_received()
    resp = admin_client.api("POST", f"/admin/api/alerts/{alert_id}/acknowledge", json={"note": "mine"})
    assert resp.status_code == 200
    got = alert_events(socket_client)
    assert [(e["event"], e["alert"]["acknowledged_by"], e["alert"]["ack_note"], e["firing"]) for e in got] == \
        [("acknowledged", "admin", "mine", 0)]


def test_a_socket_outside_the_room_hears_nothing(app, socket_client):
    only_memory(app)
    socket_client.get_received()
    with database.session_scope(app) as session:
        feed(session, HOT, database.utcnow())
    with database.session_scope(app) as session:
        alert_dispatch.on_tick(app, session, HOT)
    assert alert_events(socket_client) == []


def test_the_real_scheduler_evaluates_rules(make_app):
    """With the scheduler's own tick (real snapshot from a real sample), a rule that always holds fires."""
    app = make_app(LIVE_UPDATE_INTERVAL=0.05, SAMPLE_INTERVAL=0.05)
    with database.session_scope(app) as session:
        for rule in session.scalars(select(AlertRule)):
            rule.enabled = False
        session.add(AlertRule(name="Any disk use", metric="metric", operator=">=", threshold=0.0,
                              for_seconds=0, severity="info", channels=[],
                              params={"name": "disk_percent", "reducer": "last", "window_seconds": 300}))
    assert live.tick(app) is not None
    with database.session_scope(app) as session:
        alert = session.scalar(select(Alert))
    assert alert is not None and alert.status == "firing" and alert.rule_name == "Any disk use"
    assert 0.0 <= alert.value <= 100.0
