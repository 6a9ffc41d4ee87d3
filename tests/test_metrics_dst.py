"""Minute and hour rollups equal sums over the raw points across a DST change (Europe/Berlin).

On 2026-10-25 Berlin's clocks go back from 03:00 CEST to 02:00 CET: the local hour 02:00-03:00
happens twice. Points stamped in local time with their offset must land in the UTC minute and
hour they belong to, so the doubled local hour is two hourly rollups, each exact.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

import database
from services import metrics
from services.metrics.models import MetricHour, MetricMinute, MetricPoint, MetricSeries

BERLIN = ZoneInfo("Europe/Berlin")
FIRST = datetime(2026, 10, 24, 23, 0, tzinfo=timezone.utc)  # 01:00 CEST
NOW = datetime(2026, 10, 25, 4, 0, tzinfo=timezone.utc)      # 05:00 CET


def _fold(rows):
    """(count, sum, min, max, last) of (time, value) rows."""
    rows = sorted(rows)
    values = [v for _, v in rows]
    return (len(values), sum(values), min(values), max(values), values[-1])


def test_rollups_equal_the_raw_points_across_the_autumn_change(app):
    items = []
    for i in range(0, 4 * 3600, 97):  # a point every 97 s for four hours of UTC
        at = (FIRST + timedelta(seconds=i)).astimezone(BERLIN)
        items.append({"name": "dst_gauge", "value": round(1.5 + (i % 1000) / 7, 6), "labels": {"tz": "berlin"},
                      "timestamp": at.isoformat()})  # local time with its offset (+02:00, then +01:00)
        items.append({"name": "dst_total", "type": "counter", "value": float(i // 97), "timestamp": at.isoformat()})
    offsets = {item["timestamp"][-6:] for item in items}
    assert offsets == {"+02:00", "+01:00"}
    with database.session_scope(app) as session:
        metrics.ingest_history(session, items, app.config, FIRST - timedelta(minutes=1), NOW)

    with database.session_scope(app) as session:
        for name in ("dst_gauge", "dst_total"):
            sid = session.scalar(select(MetricSeries.id).where(MetricSeries.name == name))
            raw = [(p.ts, p.value) for p in session.scalars(select(MetricPoint).where(MetricPoint.series_id == sid))]
            assert len(raw) == len(items) // 2
            for model, width in ((MetricMinute, 60), (MetricHour, 3600)):
                groups = defaultdict(list)
                for ts, value in raw:
                    groups[datetime.fromtimestamp(ts.timestamp() // width * width, timezone.utc)].append((ts, value))
                expected = {bucket: _fold(rows) for bucket, rows in groups.items()}
                stored = {r.bucket: (r.count, r.sum, r.min, r.max, r.last)
                          for r in session.scalars(select(model).where(model.series_id == sid))}
                assert set(stored) == set(expected), (name, model.__tablename__)
                for bucket, figures in expected.items():
                    count, total, low, high, last = stored[bucket]
                    assert (count, low, high, last) == (figures[0], figures[2], figures[3], figures[4])
                    assert abs(total - figures[1]) < 1e-6 * max(1.0, abs(figures[1]))
            # The local hour 02:00-03:00 happened twice: as 00:00 and 01:00 UTC, two hourly rollups.
            hours = {r.bucket: r.count for r in session.scalars(select(MetricHour).where(MetricHour.series_id == sid))}
            doubled = [datetime(2026, 10, 25, h, tzinfo=timezone.utc) for h in (0, 1)]
            assert [b.astimezone(BERLIN).strftime("%H %Z") for b in doubled] == ["02 CEST", "02 CET"]
            assert all(hours[b] > 30 for b in doubled) and sum(hours.values()) == len(raw)
        # A counter that only grows: its increases over the hours add up to its last value.
        sid = session.scalar(select(MetricSeries.id).where(MetricSeries.name == "dst_total"))
        increase = sum(r.increase for r in session.scalars(select(MetricHour).where(MetricHour.series_id == sid)))
        assert increase == float((4 * 3600 - 1) // 97)
