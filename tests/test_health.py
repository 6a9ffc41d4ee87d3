"""/admin/api/health: each check, the rolled-up status and its reasons."""
from __future__ import annotations

from datetime import timedelta

import pytest

import database
from services.ops import health


def _report(client):
    resp = client.get("/admin/api/health")
    return resp.status_code, resp.get_json()


def test_healthy_with_generous_thresholds(make_app):
    app = make_app(HEALTH_DISK_WARN_PERCENT=100.0, HEALTH_DISK_CRIT_PERCENT=100.1,
                   HEALTH_MEMORY_WARN_PERCENT=100.0, HEALTH_MEMORY_CRIT_PERCENT=100.1)
    c = app.test_client()
    c.login("admin", "admin-password-1")
    status, body = _report(c)
    assert status == 200
    assert body["status"] == "healthy" and body["reasons"] == []
    for name in ("database", "cache", "scheduler", "sampler", "disk", "memory"):
        assert body["checks"][name]["status"] == "healthy", name
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert body["checks"]["database"]["breaker"]["state"] == "closed"
    assert "redis" not in body["checks"]


def test_disk_over_the_warning_is_degraded_and_over_critical_unhealthy(make_app):
    app = make_app(HEALTH_DISK_WARN_PERCENT=0.0, HEALTH_DISK_CRIT_PERCENT=100.1,
                   HEALTH_MEMORY_WARN_PERCENT=100.0, HEALTH_MEMORY_CRIT_PERCENT=100.1)
    c = app.test_client()
    c.login("admin", "admin-password-1")
    status, body = _report(c)
    assert status == 200 and body["status"] == "degraded"
    assert [r.split(":")[0] for r in body["reasons"]] == ["disk"]
    app.config["HEALTH_MEMORY_CRIT_PERCENT"] = 0.0
    status, body = _report(c)
    assert status == 503 and body["status"] == "unhealthy"
    assert body["checks"]["memory"]["status"] == "unhealthy"


def test_scheduler_expected_but_silent_is_degraded(app, monkeypatch):
    app.config["SCHEDULER_ENABLED"] = True  # expected to run, but never started in this test
    from services.live import scheduler as live

    monkeypatch.setattr(live, "last_tick_at", lambda app=None: None)
    check = health.check_scheduler(app, database.utcnow())
    assert check["status"] == "degraded" and check["last_tick_at"] is None

    now = database.utcnow()
    monkeypatch.setattr(live, "last_tick_at", lambda app=None: now - timedelta(seconds=5))
    assert health.check_scheduler(app, now)["status"] == "healthy"
    monkeypatch.setattr(live, "last_tick_at", lambda app=None: now - timedelta(seconds=600))
    old = health.check_scheduler(app, now)
    assert old["status"] == "degraded" and old["age_seconds"] == 600.0


def test_scheduler_off_is_not_a_problem(app):
    check = health.check_scheduler(app, database.utcnow())
    assert check["status"] == "healthy" and check["enabled"] is False


@pytest.mark.sqlite_only
def test_a_real_scheduler_tick_is_seen(make_app):
    app = make_app(SCHEDULER_ENABLED=True)
    from services.live import scheduler as live

    live.tick(app)
    check = health.check_scheduler(app, database.utcnow())
    assert check["status"] == "healthy" and check["age_seconds"] < 60


def test_health_needs_a_login(client):
    assert client.get("/admin/api/health").status_code == 401
