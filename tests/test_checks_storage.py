"""Stored results: uptime equals what was stored, rollups equal the raw rows, retention bounds both."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

import database
from services.ops import retention
from services.checks import service, storage
from services.checks.kinds import Outcome
from services.checks.models import DAY, HOUR, MINUTE, MonitorResult, MonitorRollup
from services.checks.runner import record

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _create(app, **body) -> int:
    with database.session_scope(app) as s:
        return service.create(s, body, min_interval=1).id


def _feed(app, mid, pattern, start, step_s=20):
    """Store ``pattern`` (1 up, 0 down) as results every ``step_s`` seconds from ``start``;
    returns what was recorded, [(at, ok, latency_ms)]."""
    fed = []
    for i, up in enumerate(pattern):
        latency = None if not up and i % 2 else 10.0 + i
        at = start + timedelta(seconds=step_s * i)
        record(app, mid, Outcome(bool(up), latency, None if up else "HTTP 500"), at)
        fed.append((at, bool(up), latency))
    return fed


def test_uptime_equals_the_share_of_recorded_up_results(app, admin_client):
    mid = _create(app, name="shop", kind="tcp", host="127.0.0.1", port=9)
    pattern = [1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1]
    fed = _feed(app, mid, pattern, NOW - timedelta(hours=2))
    expected = round(100 * 13 / 17, 3)
    [listed] = admin_client.get("/admin/api/monitors").get_json()["monitors"]
    assert listed["uptime_24h"] == expected and listed["checks_24h"] == 17
    assert listed["uptime_7d"] == expected and listed["uptime_30d"] == expected
    latencies = [lat for _, _, lat in fed if lat is not None]
    assert listed["avg_ms_24h"] == round(sum(latencies) / len(latencies), 2)
    with database.session_scope(app) as s:
        raw = s.execute(select(MonitorResult.at, MonitorResult.ok).where(MonitorResult.monitor_id == mid)
                        .order_by(MonitorResult.at)).all()
    # Raw rows: the first check (pending -> up, a state change) and every failure; no other success.
    assert [(at, ok) for at, ok in raw] == [(at, ok) for i, (at, ok, _) in enumerate(fed) if i == 0 or not ok]


def test_rollups_equal_the_recorded_results(app):
    mid = _create(app, name="shop", kind="tcp", host="127.0.0.1", port=9)
    pattern = [(i * 7) % 5 != 0 for i in range(400)]  # ~2 h 13 min at 20 s
    start = NOW - timedelta(hours=3)
    fed = _feed(app, mid, pattern, start)
    with database.session_scope(app) as s:
        for resolution in (MINUTE, HOUR, DAY):
            buckets = s.scalars(select(MonitorRollup).where(MonitorRollup.monitor_id == mid,
                                                            MonitorRollup.resolution == resolution)).all()
            for b in buckets:
                inside = [r for r in fed if b.bucket_start <= r[0] < b.bucket_start + timedelta(seconds=resolution)]
                lat = [r[2] for r in inside if r[2] is not None]
                assert b.checks == len(inside) and b.up == sum(r[1] for r in inside)
                assert b.latency_count == len(lat)
                assert abs(b.latency_sum_ms - sum(lat)) < 1e-6
                assert b.latency_max_ms == (max(lat) if lat else None)
            assert sum(b.checks for b in buckets) == len(fed)


def test_retention_drops_old_raw_results_but_keeps_rollups(make_app):
    app = make_app(RETENTION_DAYS_MONITOR_RESULTS=3)
    mid = _create(app, name="shop", kind="tcp", host="127.0.0.1", port=9)
    _feed(app, mid, [1, 0, 1], NOW - timedelta(days=5), step_s=3600)
    _feed(app, mid, [1, 1], NOW - timedelta(hours=1))
    result = retention.prune(database.get_engine(app), app.config)
    # Raw rows were the first check (a state change) and the failure; the successes are counted only.
    assert result.deleted.get("monitor_results") == 2
    with database.session_scope(app) as s:
        assert s.scalar(select(func.count()).select_from(MonitorResult)) == 0
        hours = s.scalar(select(func.sum(MonitorRollup.checks)).where(MonitorRollup.resolution == HOUR))
    assert hours == 5  # the hour rollups still hold the pruned results
    with database.session_scope(app) as s:
        figures = storage.uptime_from_rollups(s, [mid], HOUR, NOW - timedelta(days=7))
    assert figures[mid]["checks"] == 5 and figures[mid]["up"] == 4


def test_p50_and_p95_come_from_the_hour_histograms(app, admin_client):
    mid = _create(app, name="api", kind="tcp", host="127.0.0.1", port=9)
    start = NOW - timedelta(hours=3)
    for i in range(100):  # response times 1..100 ms over three hours
        record(app, mid, Outcome(True, float(i + 1), None), start + timedelta(seconds=100 * i))
    [row] = [m for m in admin_client.get("/admin/api/monitors").get_json()["monitors"] if m["id"] == mid]
    # True p50 is 50 ms, p95 95 ms: each estimate lies inside its histogram bucket (30-50, 70-100].
    assert 30 < row["p50_ms_24h"] <= 50 and 70 < row["p95_ms_24h"] <= 100
    assert row["p50_ms_24h"] < row["p95_ms_24h"] <= 100.0  # capped by the slowest check
    with database.session_scope(app) as s:
        hours = s.scalars(select(MonitorRollup.latency_hist).where(
            MonitorRollup.monitor_id == mid, MonitorRollup.resolution == HOUR)).all()
        minutes = s.scalars(select(MonitorRollup.latency_hist).where(
            MonitorRollup.monitor_id == mid, MonitorRollup.resolution == MINUTE)).all()
    from services.checks import histogram
    assert sum(histogram.merge(hours).values()) == 100  # every measured check, once
    assert set(minutes) == {None}
