"""Checks against real local servers: thresholds, conditions, alerts, parents, heartbeats."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

import database
from services.alerts.models import Alert
from services.checks import check_once, runner, service
from services.checks.models import Monitor, MonitorEvent
from tests.checks_target import Target, app, target  # noqa: F401 (fixtures)
from tests.servers import free_port


def _create(app, **body) -> int:
    with database.session_scope(app) as s:
        return service.create(s, body, min_interval=1).id


def _monitor(app, mid) -> Monitor:
    with database.session_scope(app) as s:
        m = s.get(Monitor, mid)
        s.expunge(m)
        return m


def _alerts(app) -> list[Alert]:
    with database.session_scope(app) as s:
        rows = s.scalars(select(Alert).order_by(Alert.id)).all()
        for r in rows:
            s.expunge(r)
        return rows


def _status(app, mid) -> str:
    from services.checks.state import display_status

    return display_status(_monitor(app, mid))


def test_three_failures_turn_down_and_two_successes_bring_it_back(app, target):
    mid = _create(app, name="shop", kind="http", url=target.url, labels={"service": "shop", "team": "web"})
    check_once(app, mid)
    assert _status(app, mid) == "up"
    target.status = 503
    check_once(app, mid)
    assert _status(app, mid) == "degraded"
    check_once(app, mid)
    assert _status(app, mid) == "degraded" and _alerts(app) == []
    check_once(app, mid)
    assert _status(app, mid) == "down"
    [alert] = _alerts(app)
    assert alert.status == "firing" and alert.severity == "critical" and alert.metric == "monitor_up"
    assert "shop" in alert.title and "service=shop" in alert.title and "team=web" in alert.title
    assert "HTTP 503" in alert.title
    target.status = 200
    check_once(app, mid)
    assert _status(app, mid) == "down" and _alerts(app)[0].status == "firing"
    check_once(app, mid)
    assert _status(app, mid) == "up"
    [alert] = _alerts(app)
    assert alert.status == "resolved" and alert.auto_resolved
    with database.session_scope(app) as s:
        moves = [(e.from_state, e.to_state, e.alerted) for e in
                 s.scalars(select(MonitorEvent).where(MonitorEvent.monitor_id == mid).order_by(MonitorEvent.id))]
    assert moves == [("pending", "up", False), ("up", "down", True), ("down", "up", False)]


@pytest.mark.parametrize("ranges, status, ok", [
    ("200-299", 204, True), ("200-299", 301, False), ("200-299,404", 404, True),
    ("500", 500, True), ("200-399", 500, False)])
def test_expected_status_ranges(app, target, ranges, status, ok):
    target.status = status
    target.headers = {"Content-Type": "text/plain"} if status != 301 else {"Location": "/elsewhere"}
    mid = _create(app, name="s", kind="http", url=target.url, expected_status=ranges,
                  follow_redirects=False, failure_threshold=1)
    check_once(app, mid)
    m = _monitor(app, mid)
    assert m.last_ok is ok
    assert m.last_detail.get("status_code") == status
    if not ok:
        assert m.last_error == f"HTTP {status}"


@pytest.mark.parametrize("cond, ok, error", [
    ({"keyword": '"status": "ok"'}, True, None),
    ({"keyword": "maintenance"}, False, "keyword 'maintenance' not found"),
    ({"keyword": "ok", "keyword_absent": True}, False, "keyword 'ok' found"),
    ({"json_path": "$.db.ok", "json_expected": True}, True, None),
    ({"json_path": "$.status", "json_expected": "ok"}, True, None),
    ({"json_path": "$.status", "json_expected": "degraded"}, False, "json_path $.status is 'ok', expected 'degraded'"),
    ({"json_path": "$.missing"}, False, "json_path $.missing found nothing"),
])
def test_keyword_and_json_path_conditions(app, target, cond, ok, error):
    mid = _create(app, name="c", kind="http", url=target.url, failure_threshold=1, **cond)
    check_once(app, mid)
    m = _monitor(app, mid)
    assert (m.last_ok, m.last_error) == (ok, error)


def test_slow_response_counts_as_failure(app, target):
    target.delay = 0.4
    mid = _create(app, name="slow", kind="http", url=target.url, max_response_ms=150, failure_threshold=1)
    check_once(app, mid)
    m = _monitor(app, mid)
    assert m.state == "down" and m.last_error.startswith("slow: ")
    assert m.last_latency_ms >= 400


def test_timeout_is_a_failure(app, target):
    target.delay = 1.5
    mid = _create(app, name="hang", kind="http", url=target.url, timeout_seconds=0.3,
                  interval_seconds=10, failure_threshold=1)
    check_once(app, mid)
    assert _monitor(app, mid).last_error == "timed out after 0.3 s"


def test_tcp_open_port_is_up_and_closed_port_is_down(app, target):
    up = _create(app, name="open", kind="tcp", host="127.0.0.1", port=target.port)
    down = _create(app, name="closed", kind="tcp", host="127.0.0.1", port=free_port(), failure_threshold=1)
    check_once(app, up)
    check_once(app, down)
    assert _monitor(app, up).state == "up" and _monitor(app, up).last_latency_ms is not None
    m = _monitor(app, down)
    assert m.state == "down" and "failed" in m.last_error


def test_heartbeat_within_interval_and_grace_keeps_up_and_a_missed_one_turns_down(app, client):
    mid = _create(app, name="cron", kind="push", interval_seconds=10, grace_seconds=5,
                  failure_threshold=1, recovery_threshold=1)
    token = _monitor(app, mid).push_token
    check_once(app, mid)
    assert _monitor(app, mid).last_error == "no heartbeat received yet"
    assert client.post(f"/api/v1/heartbeat/{token}", json={"message": "nightly ok"}).status_code == 200
    sent = _monitor(app, mid).last_push_at
    check_once(app, mid, now=sent + timedelta(seconds=14))
    assert _monitor(app, mid).state == "up"
    check_once(app, mid, now=sent + timedelta(seconds=16))
    m = _monitor(app, mid)
    assert m.state == "down" and m.last_error.startswith("no heartbeat for 16 s")
    # A heartbeat that says "down" is a failure even when on time.
    client.post(f"/api/v1/heartbeat/{token}", json={"status": "down", "message": "disk full"})
    check_once(app, mid)
    assert _monitor(app, mid).last_error == "heartbeat reported down: disk full"


def test_child_is_not_alerted_while_its_parent_is_down(app, target):
    parent = _create(app, name="gateway", kind="http", url=target.url, failure_threshold=1,
                     recovery_threshold=1)
    child = _create(app, name="payments", kind="tcp", host="127.0.0.1", port=free_port(),
                    failure_threshold=1, parent_id=parent)
    target.status = 500
    check_once(app, parent)
    check_once(app, child)
    assert _monitor(app, child).state == "down"
    assert [a.title.split(" is down")[0] for a in _alerts(app)] == ["Monitor gateway"]
    target.status = 200
    check_once(app, parent)
    check_once(app, child)  # parent up again, child still down: now it is alerted
    titles = [(a.title.split(" is down")[0], a.status) for a in _alerts(app)]
    assert titles == [("Monitor gateway", "resolved"), ("Monitor payments", "firing")]


def test_pausing_resolves_the_alert_and_stops_checks(app, target, admin_client):
    target.status = 500
    mid = _create(app, name="x", kind="http", url=target.url, failure_threshold=1)
    check_once(app, mid)
    assert _alerts(app)[0].status == "firing"
    resp = admin_client.api("POST", f"/admin/api/monitors/{mid}/pause", json={"paused": True})
    assert resp.get_json()["monitor"]["status"] == "paused"
    assert _alerts(app)[0].status == "resolved"
    hits = target.hits
    assert check_once(app, mid) is None and target.hits == hits


def test_a_hanging_target_does_not_delay_the_others(app, target):
    fast_target = Target()
    try:
        target.delay = 3.0
        slow = _create(app, name="hang", kind="http", url=target.url, timeout_seconds=5, interval_seconds=10)
        fast = _create(app, name="fast", kind="http", url=fast_target.url, interval_seconds=10)
        run = runner(app)
        assert run.start()
        try:
            deadline = time.monotonic() + 10
            while _monitor(app, fast).last_checked_at is None and time.monotonic() < deadline:
                time.sleep(0.05)
            # The fast monitor has its result while the hanging one is still being checked.
            assert _monitor(app, fast).state == "up"
            assert slow in run.in_flight and _monitor(app, slow).last_checked_at is None
        finally:
            run.stop()
    finally:
        fast_target.stop()


def test_runner_stays_idle_in_a_follower_process(app, target):
    class Follower:
        held = False

    mid = _create(app, name="f", kind="http", url=target.url)
    run = runner(app)
    app.extensions["live"].leader = Follower()
    assert run.start()
    try:
        assert run.cycle() == 0
        app.extensions["live"].leader = None
        assert run.cycle() == 1
    finally:
        run.stop()
    assert mid in run.next_due


def test_a_check_cancelled_by_stop_is_checked_after_a_restart(app, target):
    target.delay = 1.5
    one = _create(app, name="one", kind="http", url=target.url, timeout_seconds=2, interval_seconds=3)
    two = _create(app, name="two", kind="http", url=target.url, timeout_seconds=2, interval_seconds=3)
    app.config["MONITOR_WORKERS"] = 1  # one check runs, the other waits in the pool's queue
    run = runner(app)
    assert run.start()
    deadline = time.monotonic() + 10
    while not {one, two} <= run.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)
    assert {one, two} <= run.in_flight
    run.stop()  # the queued check is cancelled: it never ran, so nothing will free its monitor later
    target.delay = 0
    assert run.start()
    try:
        deadline = time.monotonic() + 20  # the running check's result, then the next interval
        while time.monotonic() < deadline and not all(_monitor(app, m).last_checked_at for m in (one, two)):
            time.sleep(0.05)
        assert _monitor(app, one).state == _monitor(app, two).state == "up"
    finally:
        run.stop()
