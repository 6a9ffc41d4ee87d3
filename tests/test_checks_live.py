"""State changes of monitors reach the admins' sockets, with the monitor-down alert beside them."""
from __future__ import annotations

import pytest

import database
from services.checks import check_once, runner, service
from services.checks.models import Monitor
from services.live import periodic_job_definitions
from tests.checks_target import Target
from tests.helpers import wait_for


@pytest.fixture
def app(make_app):
    return make_app(MONITOR_ALLOW_PRIVATE=True)


@pytest.mark.sqlite_only
def test_down_and_up_arrive_as_monitor_and_alert_events(app, socket_client):
    target = Target()
    try:
        with database.session_scope(app) as s:
            mid = service.create(s, {"name": "shop", "kind": "http", "url": target.url,
                                     "failure_threshold": 1, "recovery_threshold": 1}).id
        socket_client.emit("join_admin_room")
        socket_client.get_received()
        check_once(app, mid)
        target.status = 502
        check_once(app, mid)
        check_once(app, mid)  # still down: no new event
        target.status = 200
        check_once(app, mid)
        received = socket_client.get_received()
        moves = [(e["args"][0]["previous"], e["args"][0]["status"]) for e in received if e["name"] == "monitor"]
        assert moves == [("pending", "up"), ("up", "down"), ("down", "up")]
        alerts = [(e["args"][0]["event"], e["args"][0]["alert"]["title"]) for e in received if e["name"] == "alert"]
        assert alerts == [("fired", "Monitor shop is down: HTTP 502"),
                          ("resolved", "Monitor shop is down: HTTP 502")]
    finally:
        target.stop()


def test_the_runner_starts_once_from_a_leader_only_periodic_job(app):
    [job] = [j for j in periodic_job_definitions(app) if j.name == "start_monitor_runner"]
    assert job.leader_only and not job.after_push
    target = Target()
    try:
        with database.session_scope(app) as s:
            mid = service.create(s, {"name": "shop", "kind": "http", "url": target.url}).id
        run = runner(app)
        assert not run.running
        assert job.run(app) is True
        try:
            assert job.run(app) is False and run.running  # started once, not again each tick
            checked = wait_for(lambda: _last_checked(app, mid))
            assert checked is not None and target.hits >= 1
        finally:
            run.stop()
    finally:
        target.stop()


def _last_checked(app, mid):
    with database.session_scope(app) as s:
        return s.get(Monitor, mid).last_checked_at
