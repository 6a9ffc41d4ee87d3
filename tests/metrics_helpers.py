"""Helpers of the metrics tests: pushing points and reading them back through the API."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

import database
from services.metrics.models import MetricHour, MetricMinute, MetricPoint, MetricSeries
from tests.helpers import INGEST

__all__ = ["INGEST", "counts", "minute_ago", "push", "query"]


def push(client, metrics):
    return client.post("/api/v1/metrics", json={"metrics": metrics}, headers=INGEST)


def counts(app) -> dict[str, int]:
    with database.session_scope(app) as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                for m in (MetricSeries, MetricPoint, MetricMinute, MetricHour)}


def minute_ago(minutes: int) -> datetime:
    """The start of the minute ``minutes`` ago, aware UTC."""
    now = datetime.now(timezone.utc)
    return now.replace(second=0, microsecond=0) - timedelta(minutes=minutes)


def query(admin_client, **params):
    resp = admin_client.get("/admin/api/metrics/query", query_string=params)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()
