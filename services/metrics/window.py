"""One number per metric over a trailing window, for rules: ``reduce_window`` and ``last_seen``.

What an alert rule on any catalogue metric needs: the series of a name that match, folded into
one bucket over the last ``seconds`` (read at the resolution the window allows, like a query),
then reduced (last, avg, min, max, sum, count, rate); and when the newest point arrived, for
"no data for N minutes".
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.metrics import catalogue
from services.metrics.models import MetricSeries
from services.metrics.query import AGGS, Query, fetch_pushed, series_of
from services.metrics.rollups import Bucket
from services.metrics.validate import MetricError, check_name

_TICK = timedelta(microseconds=1)


def reduce_window(session: Session, config: Mapping, name: str, matchers: list[tuple[str, str, str]],
                  reducer: str, seconds: int, now: datetime) -> float | None:
    """``reducer`` over every point of the matching series in the last ``seconds``; None without data.

    Windows of whole minutes read the per-minute rollups (their buckets that start in the
    window), shorter ones the raw points.
    """
    value, _ = window_stats(session, config, name, matchers, reducer, seconds, now)
    return value


def window_stats(session: Session, config: Mapping, name: str, matchers: list[tuple[str, str, str]],
                 reducer: str, seconds: int, now: datetime,
                 cache: dict | None = None) -> tuple[float | None, int]:
    """(``reduce_window``'s value, how many points it was computed from).

    The window is (now - seconds, now]: a bucket or point counts when it starts after the
    window's start and no later than ``now``. ``cache``, a dict kept for one evaluation, lets
    many rules on one name read its list of series once. So a 300-second window at 14:07:30 holds the
    minutes 14:03 to 14:07, the five the live request figures cover, and a 15-minute rollup
    counts once whichever instant of it the tick falls on.
    """
    check_name(name)
    if reducer not in AGGS:
        raise MetricError(f"reducer must be one of {', '.join(AGGS)}", field="reducer")
    if seconds < 1:
        raise MetricError("the window must be at least one second", field="window")
    # The end is inclusive: a point stamped at ``now`` itself is part of the window.
    q = Query(name, reducer, seconds, now - timedelta(seconds=seconds), now + _TICK, matchers, [])
    provider = catalogue.provider_for(name)
    if provider is not None:
        _, series = provider.fetch(session, name, q.start, q.end, seconds, q.keep, dict(config))
    else:
        # The step only picks the resolution here: whole minutes read minute rollups.
        q.step = 60 if seconds % 60 == 0 else 1
        limit = int(config.get("METRIC_MAX_SERIES") or 200)
        # ``cache`` (one per tick): many rules on one name read its series list once.
        known = None
        if cache is not None:
            known = cache.get(("series", name))
            if known is None:
                known = cache[("series", name)] = series_of(session, name, limit)
        _, series = fetch_pushed(session, q, limit, known)
    total: Bucket | None = None
    first = q.start.timestamp()
    for s in series:
        for at, bucket in s.rows:
            if at <= first:
                continue  # both fetches floor the start to their bucket
            if total is None:
                total = bucket.copy()
            else:
                total.add(bucket)
    if total is None or not total.count:
        return None, 0
    if reducer == "rate":
        if any(s.type != "counter" for s in series):
            raise MetricError(f"rate needs a counter; {name} is a gauge", field="reducer")
        return total.increase / seconds, total.count
    if reducer == "avg":
        return total.sum / total.count, total.count
    return float(getattr(total, reducer)), total.count


def last_seen(session: Session, name: str, matchers: list[tuple[str, str, str]]) -> datetime | None:
    """When the newest point of a matching pushed series arrived (None: never)."""
    q = Query(name, "last", 60, datetime.min, datetime.max, matchers, None)
    newest = None
    for labels, at in session.execute(select(MetricSeries.labels, MetricSeries.last_at)
                                      .where(MetricSeries.name == name)):
        if at is not None and q.keep(labels) and (newest is None or at > newest):
            newest = at
    return newest


__all__ = ["reduce_window", "window_stats", "last_seen"]
