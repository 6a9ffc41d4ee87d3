"""Retention of pushed metrics: raw points after 48 h, minute rollups after 30 days, hourly after
400 days, exactly; the daily prune of the other tables does it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import database
from database import utcnow
from services import metrics
from services.ops import retention
from services.metrics.models import MetricHour, MetricMinute, MetricPoint


def _ages_hours(app, column, now):
    with database.session_scope(app) as s:
        return sorted((now - t).total_seconds() / 3600 for t in s.scalars(select(column)))


def test_prune_removes_exactly_the_old_rows(app):
    now = utcnow().replace(minute=30, second=0, microsecond=0)
    # Ages in hours, each pushed as it arrived then (a point's time must be recent when pushed).
    ages = [1, 47, 49, 24 * 29, 24 * 31, 24 * 399, 24 * 401]
    for age in ages:
        then = now - timedelta(hours=age)
        with database.session_scope(app) as s:
            metrics.ingest_json(s, {"metrics": [{"name": "depth", "value": age, "timestamp": then.isoformat()}]},
                                app.config, now=then)
    config = {"METRICS_RETENTION_RAW_HOURS": 48, "METRICS_RETENTION_MINUTE_DAYS": 30,
              "METRICS_RETENTION_HOUR_DAYS": 400, "RETENTION_BATCH_SIZE": 2}
    result = retention.prune(database.get_engine(app), config, now=now)
    assert result.deleted["metric_points"] == 5
    assert result.deleted["metric_minute"] == 3
    assert result.deleted["metric_hour"] == 1
    assert _ages_hours(app, MetricPoint.ts, now) == [1, 47]
    assert _ages_hours(app, MetricMinute.bucket, now) == [1, 47, 49, 24 * 29]
    # Hourly buckets start on the hour: the ages are 30 minutes more than the points'.
    assert _ages_hours(app, MetricHour.bucket, now) == [a + 0.5 for a in ages[:-1]]
    assert retention.prune(database.get_engine(app), config, now=now).deleted.get("metric_points") is None
