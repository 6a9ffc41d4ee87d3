"""Cache stats and clear over HTTP (admin, CSRF, audit), ingest invalidation, Redis across processes."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

import database
from extensions import socketio
from services.accounts import AuditLog
from services.infra import cache as cache_manager

from tests.test_analytics import ingest_all, tx

REVENUE = "/admin/api/analytics/revenue"
RANGE = {"period": "daily", "start": "2026-05-01T00:00:00Z", "end": "2026-05-03T00:00:00Z"}


def _total(client) -> int:
    return client.get(REVENUE, query_string=RANGE).get_json()["summary"]["total_cents"]


def test_second_read_is_a_hit_and_ingest_makes_it_fresh(app, admin_client):
    ingest_all(app, [tx("r1", "2026-05-01T09:00:00Z", 1500)])
    assert _total(admin_client) == 1500
    assert _total(admin_client) == 1500
    row = admin_client.get("/admin/api/cache/stats").get_json()["namespaces"]["analytics"]
    assert row["misses"] == 1 and row["hits"] == 1 and row["size"] == 1
    ingest_all(app, [tx("r2", "2026-05-02T09:00:00Z", 700)])  # publishes ingest.committed
    assert _total(admin_client) == 2200
    ingest_all(app, activities=[{"user_id": "u", "action": "view"}])  # activity only
    assert admin_client.get("/admin/api/cache/stats").get_json()["namespaces"]["analytics"]["size"] == 1


def test_stats_shape(app, admin_client):
    body = admin_client.get("/admin/api/cache/stats").get_json()
    assert set(body["namespaces"]) == {"live", "analytics", "activity", "health", "history"}
    assert body["namespaces"]["analytics"]["ttl"] == 300.0
    for key in ("hits", "misses", "hit_ratio", "size", "maxsize", "ttl", "evictions"):
        assert key in body["namespaces"]["live"]
    assert body["backend"] == "memory" and "hits" in body["totals"]


def test_clear_one_namespace_then_all_is_audited(app, admin_client):
    with app.app_context():
        cache_manager.set("analytics", "a", 1)
        cache_manager.set("analytics", "b", 2)
        cache_manager.set("activity", "c", 3)
    resp = admin_client.api("POST", "/admin/api/cache/clear", json={"namespace": "analytics"})
    assert resp.status_code == 200 and resp.get_json()["cleared"] == 2
    with app.app_context():
        assert cache_manager.get("analytics", "a") is None
        assert cache_manager.get("activity", "c") == 3
    resp = admin_client.api("POST", "/admin/api/cache/clear", json={})
    assert resp.get_json()["cleared"] == 1
    with app.app_context():
        rows = database.get_session().scalars(
            select(AuditLog).where(AuditLog.action == "cache.clear").order_by(AuditLog.id)).all()
        assert [(r.actor, r.target, r.detail["cleared"]) for r in rows] == [
            ("admin", "analytics", 2), ("admin", "all", 1)]


@pytest.mark.parametrize("who, body, headers, status", [
    ("viewer", {"namespace": "analytics"}, None, 403),
    ("admin", {"namespace": "analytics"}, {"X-CSRFToken": ""}, 400),
    ("admin", {"namespace": "sessions"}, None, 400),
    ("admin", {"namespace": 5}, None, 400),
    ("admin", [1, 2], None, 400),
])
def test_clear_refusals_change_nothing(app, admin_client, viewer_client, who, body, headers, status):
    with app.app_context():
        cache_manager.set("analytics", "a", 1)
    client = admin_client if who == "admin" else viewer_client
    if headers is not None:  # no token at all
        client.csrf = None
    resp = client.api("POST", "/admin/api/cache/clear", json=body)
    assert resp.status_code == status
    assert "error" in resp.get_json()
    with app.app_context():
        assert cache_manager.get("analytics", "a") == 1
        assert database.get_session().scalar(
            select(AuditLog).where(AuditLog.action == "cache.clear")) is None


@pytest.fixture
def forget_socketio_queue():
    """flask-socketio keeps the message queue of the last ``init_app`` that had one in its
    options, so every later app of this test process (without Redis) would inherit it."""
    yield
    socketio.server_options.pop("client_manager", None)


def test_clear_in_one_process_clears_the_other_through_redis(make_app, redis_url, redis_namespace,
                                                             forget_socketio_queue):
    first = make_app(REDIS_URL=redis_url, REDIS_NAMESPACE=redis_namespace)
    second = make_app(REDIS_URL=redis_url, REDIS_NAMESPACE=redis_namespace)
    managers = [cache_manager.manager(a) for a in (first, second)]
    try:
        for m in managers:
            assert m.sync.subscribed.wait(5)
            m.set("analytics", "k", "v")
            m.set("activity", "k", "v")
        assert managers[0].stats()["backend"] == "memory+redis"
        with first.app_context():
            cache_manager.clear("analytics")
        _wait(lambda: managers[1].get("analytics", "k") is None)
        assert managers[1].get("activity", "k") == "v"  # only the namespace asked for
        managers[1].invalidate("activity")
        _wait(lambda: managers[0].get("activity", "k") is None)
        # An ingest in one process makes the other's revenue cache fresh too.
        managers[1].set("analytics", "k", "v")
        ingest_all(first, [tx("x1", "2026-05-01T09:00:00Z", 100)])
        _wait(lambda: managers[1].get("analytics", "k") is None)
    finally:
        for m in managers:
            m.close()


def test_redis_down_degrades_without_breaking(make_app, redis_namespace, forget_socketio_queue):
    # Only the cache sync should meet the dead Redis here; rate limits stay in memory.
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", REDIS_NAMESPACE=redis_namespace,
                   RATELIMIT_STORAGE_URI="memory://")
    m = cache_manager.manager(app)
    try:
        with app.app_context():
            cache_manager.set("analytics", "k", 1)
            assert cache_manager.clear("analytics") == 1  # local clear still works
        _wait(lambda: m.sync.last_error is not None)
        c = app.test_client()
        assert c.login("admin", "admin-password-1").status_code == 302
        report = c.get("/admin/api/health").get_json()
        assert report["checks"]["cache"]["status"] == "degraded"
        assert report["checks"]["redis"]["status"] == "degraded"
        assert report["status"] in ("degraded", "unhealthy")
    finally:
        m.close()


def _wait(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")
