"""Comparison for the revenue series: the same figures over the previous period or the same
period a week earlier, bucket by bucket, and which bucket is still running.

- ``previous``: the range of the same length just before (``start - (end - start)`` .. ``start``);
- ``week``: the same local dates and hours seven days earlier (wall-clock in the asked zone, so a
  daylight-saving change in between keeps 09:00 against 09:00).

The comparison range is planned exactly like the figures (``services.insights.revenue.plan``), so
its buckets are whole buckets of the same period; bucket ``i`` is compared with bucket ``i``.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from services.explore.cursor import ExploreParamError
from services.insights import revenue as revenue_insights

KINDS = ("previous", "week")


def _week_before(moment: datetime, tz) -> datetime:
    local = moment.astimezone(tz).replace(tzinfo=None) - timedelta(days=7)
    return local.replace(tzinfo=tz).astimezone(moment.tzinfo)


def comparison(session: Session, query: revenue_insights.RevenueQuery, currency: str | None, kind: str,
               period: str, now: datetime) -> dict[str, Any]:
    """The ``kind`` comparison of a revenue answer in ``currency``, aligned to its buckets."""
    if kind not in KINDS:
        raise ExploreParamError(f"compare must be one of {', '.join(KINDS)}", "compare")
    tz = query.buckets.tz
    if kind == "previous":
        start, end = query.start - (query.end - query.start), query.start
    else:
        start, end = _week_before(query.start, tz), _week_before(query.end, tz)
    other = revenue_insights.plan(period, start, end, tz.key, now)
    body = revenue_insights.revenue(session, other, currency) if currency else None
    buckets = body["buckets"] if body else []
    current = next((i for i in range(len(query.buckets))
                    if query.buckets.edges[i] <= now < query.buckets.edges[i + 1]), None)
    return {
        "kind": kind, "currency": currency,
        "start": other.start.astimezone(tz).isoformat(), "end": other.end.astimezone(tz).isoformat(),
        "buckets": [{"start": b["start"], "revenue_cents": b["revenue_cents"], "orders": b["completed"],
                     "transactions": b["transactions"]} for b in buckets],
        "total_cents": sum(b["revenue_cents"] for b in buckets),
        # The bucket holding now: its figure is still growing, so it is drawn as partial.
        "current_bucket": current,
    }
