"""One number per metric over a trailing window (what a rule on any catalogue metric reads)."""
from __future__ import annotations

from datetime import timedelta

import pytest

import database
from database import utcnow
from services.monitor.models import SystemMetric
from services import metrics
from tests.metrics_helpers import push


def _ago(now, seconds):
    return (now - timedelta(seconds=seconds)).isoformat()


def test_reducers_over_a_window_of_pushed_points(app, client):
    now = utcnow()
    # Well inside a 10-minute window, and one point 20 minutes back that it must not see.
    assert push(client, [
        {"name": "queue_depth", "value": v, "labels": {"queue": q}, "timestamp": _ago(now, s)}
        for q, s, v in (("mail", 300, 4.0), ("mail", 240, 10.0), ("mail", 180, 7.0), ("pay", 200, 100.0),
                        ("mail", 1200, 999.0), ("mail", 40, 2.0), ("mail", 20, 3.0))]).status_code == 202
    mail = metrics.parse_matchers('queue="mail"')
    with database.session_scope(app) as s:
        values = {r: metrics.reduce_window(s, app.config, "queue_depth", mail, r, 600, now)
                  for r in ("avg", "min", "max", "sum", "last", "count")}
        assert values == {"avg": 26 / 5, "min": 2.0, "max": 10.0, "sum": 26.0, "last": 3.0, "count": 5}
        # 90 s is not whole minutes: raw points, exactly the last 90 seconds.
        assert metrics.reduce_window(s, app.config, "queue_depth", mail, "sum", 90, now) == 5.0
        assert metrics.reduce_window(s, app.config, "queue_depth", [], "max", 600, now) == 100.0
        assert metrics.reduce_window(s, app.config, "queue_depth", metrics.parse_matchers("queue=x"),
                                     "max", 600, now) is None
        seen = metrics.last_seen(s, "queue_depth", metrics.parse_matchers("queue=pay"))
        assert abs((seen - (now - timedelta(seconds=200))).total_seconds()) < 0.001
        assert metrics.last_seen(s, "nothing_here", []) is None


def test_counter_rate_over_a_window(app, client):
    now = utcnow()
    assert push(client, [{"name": "jobs_total", "type": "counter", "value": v, "timestamp": _ago(now, s)}
                         for s, v in ((500, 100), (400, 160), (300, 20), (200, 80))]).status_code == 202
    with database.session_scope(app) as s:
        # +60, reset +20, +60: 140 over the 600 s window.
        assert metrics.reduce_window(s, app.config, "jobs_total", [], "rate", 600, now) == pytest.approx(140 / 600)
        push(client, [{"name": "temperature", "value": 1}])
        with pytest.raises(metrics.MetricError):
            metrics.reduce_window(s, app.config, "temperature", [], "rate", 600, utcnow())


def test_builtin_metric_over_a_window(app):
    now = utcnow()
    with database.session_scope(app) as s:
        for sec, cpu in ((30, 50.0), (90, 70.0), (700, 10.0)):
            s.add(SystemMetric(recorded_at=now - timedelta(seconds=sec), host="h", cpu_percent=cpu,
                               memory_percent=1, disk_percent=1))
    with database.session_scope(app) as s:
        assert metrics.reduce_window(s, app.config, "cpu_percent", [], "avg", 600, now) == 60.0
        assert metrics.reduce_window(s, app.config, "cpu_percent", [], "max", 60, now) == 50.0
