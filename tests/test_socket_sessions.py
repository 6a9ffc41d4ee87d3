"""A socket stops receiving, and is told why, when its session ends, whichever way it ends.

Each test opens a socket that joined the room and tails the logs, ends the session one way,
runs one scheduler tick, and checks that the socket got ``error`` ``unauthorized`` with the
reason, was disconnected, and receives no ``live_update``, ``feed``, ``log_entry`` or ``alert``
afterwards. The control test shows the same socket does receive all four while its session
lives, so the "nothing more" checks can fail.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import delete, update

import database
from services.accounts import User
from extensions import socketio
from services.live import room
from services.live import scheduler as live
from services.live import sockets as socket_registry
from services.accounts import users
from tests.helpers import ADMIN, INGEST, VIEWER
from tests.servers import ROOT

PUSHES = {"live_update", "feed", "log_entry", "alert"}


def _clock():
    """Monotonic times far enough apart that every tick pushes."""
    _clock.now = getattr(_clock, "now", time.monotonic()) + 1000
    return _clock.now


def with_viewer(app):
    with database.session_scope(app) as session:
        if users.get_by_username(session, VIEWER[0]) is None:
            users.create_user(session, VIEWER[0], VIEWER[1], "viewer", "pbkdf2:sha256:1000")
    return app


def watching(app, username=ADMIN[0], password=ADMIN[1]):
    """A logged-in web client and its socket, in the room and tailing the logs."""
    web = app.test_client()
    assert web.login(username, password).status_code == 302
    sc = socketio.test_client(app, flask_test_client=web)
    assert sc.is_connected()
    sc.emit("join_admin_room")
    sc.emit("logs_subscribe", {})
    take(sc)
    return web, sc


def take(sc) -> list[dict]:
    """Everything the test client received since the last call (also once disconnected)."""
    got = [p for p in sc.queue if p["namespace"] == "/"]
    sc.queue = [p for p in sc.queue if p not in got]
    return got


def push_everything(app, n: int) -> None:
    """One ingest (feed + log_entry), one tick that pushes (live_update), one alert."""
    web = app.test_client()
    stamp = database.utcnow().isoformat()
    resp = web.post("/api/v1/events", headers=INGEST, json={
        "transactions": [{"id": f"push-{n}", "amount_cents": 100, "currency": "USD",
                          "status": "completed", "customer_id": "c", "created_at": stamp}],
        "logs": [{"service": "web", "level": "ERROR", "message": f"push {n}"}]})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    live.tick(app, _clock())
    room.emit_to_admins("alert", {"event": "fired", "n": n})


def kinds(received) -> set[str]:
    return {p["name"] for p in received}


def assert_ended(app, sc, reason: str, tick: bool = True) -> dict:
    """After (at most) one tick: the error with ``reason``, disconnected, nothing pushed after."""
    if tick:
        live.tick(app, _clock())
    received = take(sc)
    names = [p["name"] for p in received]
    assert "error" in names, f"no error event; received {names}"
    error = received[names.index("error")]["args"][0]
    assert error["code"] == "unauthorized" and error["reason"] == reason, error
    assert error["message"]
    # Nothing of the tick that noticed the end reached the socket after the error.
    assert not PUSHES & set(names[names.index("error"):]), names
    assert not sc.is_connected()
    push_everything(app, 2)
    assert take(sc) == []
    return error


def test_a_live_session_keeps_receiving_everything(app):
    _, sc = watching(app)
    push_everything(app, 1)
    assert PUSHES <= kinds(take(sc))
    live.tick(app, _clock())  # the check of the tick keeps it
    assert sc.is_connected()
    push_everything(app, 2)
    assert PUSHES <= kinds(take(sc))


def test_logout_ends_the_socket_at_once(app):
    web, sc = watching(app)
    _, other = watching(app, *VIEWER)
    web.fetch_csrf("/admin/dashboard")
    assert web.post("/admin/logout", data={"csrf_token": web.csrf}).status_code == 302
    error = assert_ended(app, sc, "logged_out", tick=False)
    assert "logged out" in error["message"]
    assert other.is_connected()


def test_a_password_changed_by_the_cli_in_another_process_ends_the_socket(app):
    _, sc = watching(app)
    _, other = watching(app, *VIEWER)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECRET_KEY", "DATABASE_URL", "REDIS_", "ADMIN_"))}
    env.update(SECRET_KEY="cli-secret", DATABASE_URL=app.config["DATABASE_URL"],
               PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", SCHEDULER_ENABLED="false")
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "set-password", ADMIN[0],
                           "--password-stdin"], input="a-new-password-2\n", text=True, cwd=ROOT,
                          env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    error = assert_ended(app, sc, "password_changed")
    assert "password" in error["message"]
    take(other)
    assert other.is_connected()


def test_the_idle_timeout_ends_the_socket_and_the_page_alike(make_app):
    app = with_viewer(make_app(SESSION_IDLE_MINUTES=0.03))  # 1.8 s
    web, sc = watching(app)
    busy_web, busy = watching(app, *VIEWER)
    live.tick(app, _clock())
    assert sc.is_connected()
    for _ in range(10):  # 2.5 s: the viewer keeps using pages, the admin does not
        assert busy_web.get("/admin/api/health").status_code == 200
        time.sleep(0.25)
    error = assert_ended(app, sc, "idle")
    assert "without activity" in error["message"]
    # The page with the same cookie is logged out too: one idle clock for both.
    assert web.get("/admin/dashboard").status_code == 302
    assert busy.is_connected()


def test_a_page_in_use_keeps_its_socket_past_the_idle_limit(make_app):
    app = with_viewer(make_app(SESSION_IDLE_MINUTES=0.03))
    web, sc = watching(app)
    for _ in range(12):  # 3 s of use: longer than the 1.8 s idle limit
        assert web.get("/admin/api/health").status_code == 200
        time.sleep(0.25)
    live.tick(app, _clock())
    assert sc.is_connected()
    assert "live_update" in kinds(take(sc))


def test_the_absolute_timeout_ends_the_socket_however_active(make_app):
    app = with_viewer(make_app(SESSION_ABSOLUTE_HOURS=0.0005))  # 1.8 s
    web, sc = watching(app)
    for _ in range(10):  # in use all along
        web.get("/admin/api/health")
        time.sleep(0.25)
    error = assert_ended(app, sc, "expired")
    assert "limit" in error["message"]


@pytest.mark.parametrize("how", ["removed", "disabled"])
def test_a_removed_or_disabled_account_ends_the_socket(app, how):
    _, sc = watching(app, *VIEWER)
    _, admin = watching(app)
    with database.session_scope(app) as session:
        user = users.get_by_username(session, VIEWER[0])
        if how == "removed":
            session.execute(delete(User).where(User.id == user.id))
        else:
            session.execute(update(User).where(User.id == user.id)
                            .values(is_active=False))
    assert_ended(app, sc, how)
    take(admin)
    assert admin.is_connected()


def test_a_demoted_admin_keeps_the_socket_because_roles_share_the_room(app):
    _, sc = watching(app)
    with database.session_scope(app) as session:
        users.get_by_username(session, ADMIN[0]).role = "viewer"
    push_everything(app, 1)
    assert sc.is_connected()
    assert PUSHES <= kinds(take(sc))


def test_sockets_per_user_are_capped_with_a_clear_error(make_app):
    app = with_viewer(make_app(SOCKETS_PER_USER=2))
    web = app.test_client()
    assert web.login(*ADMIN).status_code == 302
    first, second = (socketio.test_client(app, flask_test_client=web) for _ in range(2))
    third = socketio.test_client(app, flask_test_client=web)
    deadline = time.monotonic() + 5
    while third.is_connected() and time.monotonic() < deadline:
        time.sleep(0.02)
    (error,) = [p["args"][0] for p in take(third) if p["name"] == "error"]
    assert error["code"] == "too_many_sockets" and "2" in error["message"]
    assert not third.is_connected() and first.is_connected() and second.is_connected()
    # Another user is not affected, and a closed tab frees a place.
    _, viewer = watching(app, *VIEWER)
    assert viewer.is_connected()
    first.disconnect()
    fourth = socketio.test_client(app, flask_test_client=web)
    time.sleep(0.1)
    assert fourth.is_connected()
    assert socket_registry.registry(app).count() == 3


def test_with_the_database_down_the_check_keeps_sockets_but_still_ends_expired_ones(make_app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from services.accounts import login_sessions

    app = with_viewer(make_app(SESSION_ABSOLUTE_HOURS=0.0005))  # 1.8 s
    _, sc = watching(app)

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(login_sessions, "ended", down)
    stats = socket_registry.check(app)
    assert stats.failed and stats.ended == 0 and sc.is_connected()
    time.sleep(2)  # the absolute limit needs no database: known since the handshake
    stats = socket_registry.check(app)
    assert stats.ended == 1
    assert [p["args"][0]["reason"] for p in take(sc) if p["name"] == "error"] == ["expired"]
    assert not sc.is_connected()
