"""The time a drill-down covers, read from the same parameters as the figure clicked on.

- ``period`` (hourly, daily, weekly) with ``start``/``end``/``tz``: the revenue figures' range, counted
  exactly as ``services.insights.revenue.plan`` counts it (15-minute rollup edges, never past now);
  ``bucket`` (a bucket's start as the figure labels it) narrows it to that one bucket.
- Otherwise ``start`` .. ``end`` as given ([start, end); ``end`` defaults to now, ``start`` to
  ``minutes`` (default 1440) before ``end``).
- ``weekday`` (0 = Monday) and ``hour`` (local, of ``tz``) narrow it to one heatmap cell: the UTC
  intervals of that local hour on those weekdays, so a 25-hour day's doubled hour is one interval
  of two hours and a 23-hour day's missing hour is empty.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping
from zoneinfo import ZoneInfo

from services.explore.cursor import ExploreParamError
from services.infra import InputError, ascii_int
from services.ingest import ValidationError, parse_query_time
from services.insights import InsightParamError, zone
from services.insights import revenue as revenue_insights

MAX_SPAN = timedelta(days=400)


@dataclass(frozen=True)
class Window:
    """[start, end) in aware UTC, optionally only the ``intervals`` inside it (heatmap cells)."""

    start: datetime
    end: datetime
    tz: ZoneInfo
    intervals: tuple[tuple[datetime, datetime], ...] | None = None

    def describe(self) -> dict:
        """The window as the API answers it (local times of ``tz``)."""
        return {"start": self.start.astimezone(self.tz).isoformat(), "end": self.end.astimezone(self.tz).isoformat(),
                "tz": self.tz.key}


def _time(args: Mapping[str, str], name: str) -> datetime | None:
    raw = args.get(name)
    if not raw:
        return None
    try:
        return parse_query_time(raw.replace(" ", "+"), name)
    except ValidationError as exc:
        raise ExploreParamError(str(exc), name) from None


def _int(args: Mapping[str, str], name: str, lo: int, hi: int) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return ascii_int(raw, name, lo, hi)
    except InputError as exc:
        raise ExploreParamError(exc.message, name) from None


def read(args: Mapping[str, str], now: datetime) -> Window:
    """The window the drill-down parameters ``args`` name; ExploreParamError names a bad one."""
    try:
        tz = zone(args.get("tz"))
    except InsightParamError as exc:
        raise ExploreParamError(str(exc), "tz") from None
    start, end, period = _time(args, "start"), _time(args, "end"), args.get("period")
    if period:
        try:
            plan = revenue_insights.plan(period, start, end, tz.key, now)
        except InsightParamError as exc:
            raise ExploreParamError(str(exc), "period" if "period" in str(exc) else "start") from None
        lo, hi = plan.start, plan.end
        bucket = _time(args, "bucket")
        if bucket is not None:
            edges = plan.buckets.edges
            if bucket not in edges[:-1]:
                raise ExploreParamError("bucket must be the start of one of the range's buckets", "bucket")
            i = edges.index(bucket)
            lo, hi = max(lo, edges[i]), min(hi, edges[i + 1])
    else:
        if args.get("bucket"):
            raise ExploreParamError("bucket needs period", "bucket")
        minutes = _int(args, "minutes", 1, 60 * 24 * 400)
        hi = end or now
        lo = start or hi - timedelta(minutes=minutes or 1440)
    if hi <= lo and not (period and args.get("bucket")):
        raise ExploreParamError("end must be after start", "end")
    if hi - lo > MAX_SPAN:
        raise ExploreParamError("the range may cover at most 400 days", "start")
    weekday, hour = _int(args, "weekday", 0, 6), _int(args, "hour", 0, 23)
    if (weekday is None) != (hour is None):
        raise ExploreParamError("weekday and hour go together", "hour" if hour is None else "weekday")
    intervals = None if weekday is None else tuple(local_hours(lo, max(hi, lo), tz, weekday, hour))
    return Window(lo, max(hi, lo), tz, intervals)


def _local(day: date, hour: int, tz: ZoneInfo) -> datetime:
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    # fold=0: the first of a doubled hour; a missing hour maps to the same instant as the next.
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(timezone.utc)


def local_hours(lo: datetime, hi: datetime, tz: ZoneInfo, weekday: int, hour: int) -> list[tuple[datetime, datetime]]:
    """The UTC intervals inside [lo, hi) whose local time in ``tz`` is on ``weekday`` at ``hour``."""
    out = []
    day = lo.astimezone(tz).date() - timedelta(days=1)
    last = hi.astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        if day.weekday() == weekday:
            a, b = max(_local(day, hour, tz), lo), min(_local(day, hour + 1, tz), hi)
            if a < b:
                out.append((a, b))
        day += timedelta(days=1)
    return out
