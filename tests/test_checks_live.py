"""State changes of monitors reach the admins' sockets, with the monitor-down alert beside them."""
from __future__ import annotations

import time

import pytest

import database
from services.checks import check_once, runner, service
from services.checks.models import Monitor
from services.live import periodic_job_definitions
from services.live import scheduler as live
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


def test_a_tick_outside_the_scheduler_loop_starts_no_runner(app):
    [job] = [j for j in periodic_job_definitions(app) if j.name == "start_monitor_runner"]
    assert job.leader_only and not job.after_push
    assert job.run(app) is False and not runner(app).running  # no thread would outlive this app


def _last_checked(app, mid):
    with database.session_scope(app) as s:
        return s.get(Monitor, mid).last_checked_at


def test_the_runner_stops_with_its_scheduler(make_app):
    """The scheduler's job starts the runner once; checks end with the scheduler: no cycle, no
    request to a target after it stopped."""
    app = make_app(MONITOR_ALLOW_PRIVATE=True, SCHEDULER_ENABLED=True, LIVE_UPDATE_INTERVAL=0.2,
                   SAMPLE_INTERVAL=0.2, MONITOR_LOOP_SECONDS=0.1)
    target = Target()
    try:
        with database.session_scope(app) as s:
            mid = service.create(s, {"name": "shop", "kind": "http", "url": target.url,
                                     "interval_seconds": 10}).id
        run = runner(app)
        assert live.start(app)
        try:
            assert wait_for(lambda: _last_checked(app, mid)) is not None  # the scheduler started it
            assert run.running and run.bound_to_scheduler
            [job] = [j for j in periodic_job_definitions(app) if j.name == "start_monitor_runner"]
            assert job.run(app) is False  # started once, not again each tick
        finally:
            live.stop(app)
        assert not run.running and run.pool is None
        cycles, hits = run.cycles, target.hits
        run.next_due.clear()  # due again at once: a runner still looping would check it now
        time.sleep(0.6)
        assert (run.cycles, target.hits) == (cycles, hits)
        assert run.cycle() == 0
    finally:
        target.stop()
