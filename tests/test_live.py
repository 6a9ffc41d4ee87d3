"""The scheduler, the live_update snapshot and the admin room, through the Socket.IO test client."""
from __future__ import annotations

import logging

import pytest

import database
from extensions import socketio
from services.live import feed as live_feed
from services.live import room
from services.live import scheduler as live
from services.live import Job
from services.accounts import users
from tests.helpers import ADMIN, INGEST, VIEWER, take_events, wait_for



def events_named(received, name):
    return [m["args"][0] for m in received if m["name"] == name]


def ingest(client, **body):
    resp = client.post("/api/v1/events", json=body, headers=INGEST)
    assert resp.status_code == 202, resp.get_data(as_text=True)


@pytest.fixture
def fast_app(make_app):
    """An app whose scheduler pushes every 0.3 s once started (stopped after the test)."""
    app = make_app(SCHEDULER_ENABLED=True, LIVE_UPDATE_INTERVAL=0.3, SAMPLE_INTERVAL=0.3)
    with database.session_scope(app) as session:
        if users.get_by_username(session, VIEWER[0]) is None:
            users.create_user(session, VIEWER[0], VIEWER[1], "viewer", "pbkdf2:sha256:1000")
    yield app
    live.stop(app)


def sio_for(app, username, password):
    web = app.test_client()
    assert web.login(username, password).status_code == 302
    return web, socketio.test_client(app, flask_test_client=web)


# -- snapshot ------------------------------------------------------------------------------------

def test_snapshot_counts_what_was_ingested(app, admin_client, client):
    now = database.utcnow().isoformat()
    ingest(client, transactions=[
        {"id": "t1", "amount_cents": 1000, "currency": "USD", "status": "completed",
         "customer_id": "c1", "created_at": now},
        {"id": "t2", "amount_cents": 2500, "currency": "USD", "status": "completed",
         "customer_id": "c2", "created_at": now},
        {"id": "t3", "amount_cents": 700, "currency": "USD", "status": "failed",
         "customer_id": "c3", "created_at": now},
        {"id": "t4", "amount_cents": 900, "currency": "USD", "status": "pending",
         "customer_id": "c3", "created_at": now},
    ], activities=[{"user_id": "u1", "action": "login"}, {"user_id": "u2", "action": "view"},
                   {"user_id": "u1", "action": "view"}])
    snap = live.tick(app)
    assert snap["seq"] == 1
    assert snap["transactions"]["last_hour"] == {
        "completed": 2, "pending": 1, "failed": 1, "refunded": 0, "revenue_cents": 3500, "currency": "USD",
        "revenue_by_currency": {"USD": 3500}}
    # Newest first; equal times are ordered by id, newest-looking first.
    assert [t["id"] for t in snap["transactions"]["recent"]] == ["t4", "t3", "t2", "t1"]
    assert snap["transactions"]["recent"][0]["amount_cents"] == 900
    assert snap["active_users"] == 2
    assert snap["alerts"] == {"firing": 0}
    for key in ("cpu_percent", "memory_percent", "disk_percent", "net_sent_bps", "net_recv_bps"):
        assert snap["system"][key] is not None and snap["system"][key] >= 0
    assert set(snap["requests"]) == {"rpm", "avg_ms", "p95_ms", "error_rate"}
    assert snap["requests"]["rpm"] > 0  # the logins and the ingest above were timed and flushed
    # The API answers the same snapshot the push carried.
    assert admin_client.get("/admin/api/metrics/live").get_json() == snap
    assert client.get("/admin/api/metrics/live").status_code == 401


def test_a_status_change_moves_a_transaction_between_counts(app, client):
    now = database.utcnow().isoformat()
    ingest(client, transactions=[{"id": "p1", "amount_cents": 400, "currency": "EUR",
                                  "status": "pending", "customer_id": "c", "created_at": now}])
    assert live.tick(app, 1000.0)["transactions"]["last_hour"]["pending"] == 1
    ingest(client, transactions=[{"id": "p1", "amount_cents": 400, "currency": "EUR",
                                  "status": "completed", "customer_id": "c", "created_at": now}])
    hour = live.tick(app, 2000.0)["transactions"]["last_hour"]
    assert (hour["pending"], hour["completed"], hour["revenue_cents"]) == (0, 1, 400)


def test_seq_grows_by_one_per_push_and_hooks_see_the_snapshot(app, monkeypatch, caplog):
    seen = []

    def broken_hook(_app, _session, _snap):
        raise RuntimeError("hook bug")

    state = app.extensions["live"]
    monkeypatch.setattr(state, "jobs", [job for job in state.jobs if not job.after_push] + [
        Job("broken", None, broken_hook, "a broken job", leader_only=True, after_push=True),
        Job("seen", None, lambda a, s, snap: seen.append(snap["seq"]), "a job that records",
            leader_only=True, after_push=True)])
    with caplog.at_level(logging.ERROR, logger="services.live.scheduler"):
        assert [live.tick(app, now)["seq"] for now in (1000.0, 1010.0, 1020.0)] == [1, 2, 3]
    assert seen == [1, 2, 3]
    assert "hook bug" in caplog.text
    assert live.last_tick_at(app) is not None
    # A tick before the interval has passed pushes nothing.
    assert live.tick(app, 1021.0) is None


# -- the loop ------------------------------------------------------------------------------------

def test_start_is_a_no_op_without_the_setting_or_when_running(app, fast_app):
    assert live.start(app) is False  # SCHEDULER_ENABLED is off in tests
    assert live.start(fast_app) is True
    assert live.start(fast_app) is False
    task = fast_app.extensions["live"].task
    live.stop(fast_app)
    assert not task.is_alive()


def test_a_failing_tick_is_logged_and_the_loop_goes_on(fast_app, monkeypatch, caplog):
    from services.live import snapshot

    real_build = snapshot.build
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RuntimeError("database hiccup")
        return real_build(*args, **kwargs)

    monkeypatch.setattr(snapshot, "build", flaky)
    st = fast_app.extensions["live"]
    with caplog.at_level(logging.ERROR, logger="services.live.scheduler"):
        live.start(fast_app)
        assert wait_for(lambda: st.seq >= 2, timeout=8)
    assert st.failures >= 2
    assert "database hiccup" in caplog.text
    assert live.last_tick_at(fast_app) is not None


# -- sockets -------------------------------------------------------------------------------------

def test_anonymous_socket_is_refused(app, client):
    sc = socketio.test_client(app, flask_test_client=client)
    assert not sc.is_connected()


def test_join_answers_status_and_an_immediate_snapshot(app):
    _, sc = sio_for(app, *ADMIN)
    assert sc.is_connected()
    sc.emit("join_admin_room")
    received = sc.get_received()
    assert events_named(received, "status") == [{"room": "admin", "joined": True}]
    (snap,) = events_named(received, "live_update")
    assert {"seq", "timestamp", "system", "requests", "transactions", "active_users",
            "alerts"} <= set(snap)
    sc.emit("request_live_update")
    assert len(events_named(sc.get_received(), "live_update")) == 1
    sc.emit("join_admin_room", {"room": "secret"})
    assert events_named(sc.get_received(), "error")[0]["code"] == "bad_request"
    sc.emit("no_such_event", {})
    assert events_named(sc.get_received(), "error")[0]["code"] == "unknown_event"
    sc.disconnect()


def test_viewer_and_admin_receive_pushes_and_a_client_that_left_does_not(app):
    _, admin = sio_for(app, *ADMIN)
    _, viewer = sio_for(app, *VIEWER)
    _, leaver = sio_for(app, *ADMIN)
    for sc in (admin, viewer, leaver):
        sc.emit("join_admin_room")
        sc.get_received()
    leaver.emit("leave_admin_room")
    assert events_named(leaver.get_received(), "status") == [{"room": "admin", "joined": False}]
    pushed = live.tick(app)
    for sc in (admin, viewer):
        assert events_named(sc.get_received(), "live_update") == [pushed]
    assert events_named(leaver.get_received(), "live_update") == []
    # Emits from other features reach the room too.
    assert room.emit_to_admins("alert", {"event": "fired"})
    assert events_named(viewer.get_received(), "alert") == [{"event": "fired"}]
    assert events_named(leaver.get_received(), "alert") == []


def test_two_consecutive_pushes_from_the_loop(fast_app):
    _, sc = sio_for(fast_app, *ADMIN)
    sc.emit("join_admin_room")
    sc.get_received()
    live.start(fast_app)
    pushes: list[dict] = []

    def two_pushes():  # the loop's thread emits them: read with take_events
        pushes.extend(take_events(sc, "live_update"))
        return len(pushes) >= 2

    assert wait_for(two_pushes, timeout=5)
    assert pushes[1]["seq"] == pushes[0]["seq"] + 1
    sc.disconnect()


def test_ingested_items_reach_the_room_as_a_feed(app, client):
    _, sc = sio_for(app, *VIEWER)
    sc.emit("join_admin_room")
    sc.get_received()
    live_feed.drain_feed()
    ingest(client, transactions=[{"id": "f1", "amount_cents": 10, "currency": "USD",
                                  "status": "completed", "customer_id": "c",
                                  "created_at": database.utcnow().isoformat()}],
           activities=[{"user_id": "u9", "action": "signup"}])
    live.tick(app)
    (feed,) = events_named(sc.get_received(), "feed")
    assert [t["id"] for t in feed["transactions"]] == ["f1"]
    assert [(a["user_id"], a["action"]) for a in feed["activities"]] == [("u9", "signup")]
    # The feed and the REST list name an activity by the same id, whatever their time formats,
    # so a page that gets both shows it once.
    recent = web_recent(app)
    assert [a["id"] for a in feed["activities"]] == [r["id"] for r in recent if r["user_id"] == "u9"]
    assert isinstance(feed["activities"][0]["id"], int)


def web_recent(app):
    web = app.test_client()
    assert web.login(*VIEWER).status_code == 302
    return web.get("/admin/api/user-activity", query_string={"tz": "Europe/Berlin"}).get_json()["recent"]


def test_logout_disconnects_that_users_sockets(app):
    web, sc = sio_for(app, *ADMIN)
    _, other = sio_for(app, *VIEWER)
    assert sc.is_connected() and other.is_connected()
    web.fetch_csrf("/admin/dashboard")
    assert web.post("/admin/logout", data={"csrf_token": web.csrf}).status_code == 302
    assert not sc.is_connected()
    assert other.is_connected()
