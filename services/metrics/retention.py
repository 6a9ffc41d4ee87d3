"""Pruning pushed metrics: raw points after 48 hours, minute rollups after 30 days, hourly
after 400 days (each configurable; 0 keeps forever). Called by the daily retention job."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import delete, select, tuple_

from services.metrics.models import MetricHour, MetricMinute, MetricPoint, MetricSeries

# (config key, default, unit seconds, model)
TABLES = (
    ("METRICS_RETENTION_RAW_HOURS", 48, 3600, MetricPoint),
    ("METRICS_RETENTION_MINUTE_DAYS", 30, 86_400, MetricMinute),
    ("METRICS_RETENTION_HOUR_DAYS", 400, 86_400, MetricHour),
)


def _delete_batch(session, model, cutoff: datetime, batch_size: int) -> int:
    if model is MetricPoint:
        # Per series through (series_id, ts): the only index raw points have.
        series = select(MetricSeries.id).scalar_subquery()
        ids = select(model.id).where(model.series_id.in_(series), model.ts < cutoff) \
            .limit(batch_size).scalar_subquery()
        stmt = delete(model).where(model.id.in_(ids))
    else:
        keys = select(model.series_id, model.bucket).where(model.bucket < cutoff).limit(batch_size)
        stmt = delete(model).where(tuple_(model.series_id, model.bucket).in_(keys))
    return session.execute(stmt, execution_options={"synchronize_session": False}).rowcount or 0


def prune(factory, config, now: datetime, batch_size: int, pause: float = 0.0) -> dict[str, int]:
    """Delete rows past their retention in short batches; rows deleted per table (tables with
    nothing deleted left out)."""
    deleted: dict[str, int] = {}
    for key, default, unit, model in TABLES:
        amount = int(config.get(key, default) or 0)
        if amount <= 0:
            continue
        cutoff = now - timedelta(seconds=amount * unit)
        total = 0
        while True:
            with factory() as session:
                count = _delete_batch(session, model, cutoff, batch_size)
                session.commit()
            total += count
            if count < batch_size:
                break
            if pause:
                time.sleep(pause)
        if total:  # a panel that never received a pushed metric reports nothing here
            deleted[model.__tablename__] = total
    return deleted
