"""How many sockets a process holds (health, Performance page), and sockets under a burst."""
from __future__ import annotations

import threading
import time

import pytest

from app_factory import ConfigError, async_mode, socketio
from services.live import scheduler as live
from services.live import snapshot
from tests.helpers import ADMIN, VIEWER


def connect(app, username, password):
    web = app.test_client()
    assert web.login(username, password).status_code == 302
    return socketio.test_client(app, flask_test_client=web)


def test_health_and_self_cost_count_the_sockets_of_this_process(app, admin_client):
    sockets = [connect(app, *ADMIN), connect(app, *ADMIN), connect(app, *VIEWER)]
    check = admin_client.get("/admin/api/health").get_json()["checks"]["sockets"]
    assert check["status"] == "healthy" and check["async_mode"] == "threading"
    assert check["this_process"]["connected"] == 3 and check["this_process"]["users"] == 2
    assert check["total"] == 3 and check["per_user_limit"] == 20
    assert check["message"] == "3 sockets connected to this process"
    sockets[0].disconnect()
    cost = admin_client.get("/admin/api/self-cost").get_json()["sockets"]
    assert cost["this_process"]["connected"] == 2
    live.tick(app)
    cost = admin_client.get("/admin/api/self-cost").get_json()["sockets"]
    assert cost["last_check"]["sockets"] == 2 and cost["last_check"]["ended"] == 0


def test_a_burst_of_joins_with_no_snapshot_yet_does_not_exhaust_the_pool(make_app, monkeypatch):
    """Joins waiting for the first snapshot must not hold the connections it needs."""
    app = make_app(DATABASE_ENGINE_OPTIONS={"pool_size": 2, "max_overflow": 0, "pool_timeout": 3})
    clients = [connect(app, *ADMIN) for _ in range(6)]
    for sc in clients:
        sc.get_received()
    build = snapshot.build

    def slow_build(*args, **kwargs):  # a real snapshot, computed slowly enough to overlap
        time.sleep(0.5)
        return build(*args, **kwargs)

    monkeypatch.setattr(snapshot, "build", slow_build)
    from services.infra import cache as cache_manager

    cache_manager.manager(app).clear("live")
    start = threading.Barrier(len(clients))

    def join(sc):
        start.wait()
        with app.app_context():
            sc.emit("join_admin_room")

    threads = [threading.Thread(target=join, args=(sc,)) for sc in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for sc in clients:
        names = [p["name"] for p in sc.get_received()]
        assert "live_update" in names and "error" not in names, names


def test_the_serving_model_is_always_explicit(monkeypatch):
    assert async_mode(None) == "threading"
    assert async_mode("threading") == "threading"
    with pytest.raises(ConfigError, match="gevent server"):
        async_mode("gevent")
    with pytest.raises(ConfigError, match="use gevent or threading"):
        async_mode("eventlet")
