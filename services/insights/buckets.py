"""Time buckets and parameters shared by the business insights (customers, channels, timeline).

Buckets are computed in the admin's time zone and returned as UTC edges: hourly buckets follow
the local hour, daily buckets start at local midnight (a daylight-saving day is one bucket of 23
or 25 hours), weekly buckets start on Monday. Every time-zone offset in use is a multiple of
15 minutes, so each 15-minute revenue rollup falls into exactly one bucket.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import CTE, Integer, column, values

from database import UTCDateTime

PERIODS = ("hourly", "daily", "weekly")
DEFAULT_SPAN = {"hourly": timedelta(hours=24), "daily": timedelta(days=30), "weekly": timedelta(weeks=12)}
MAX_BUCKETS = 2500
ROLLUP_STEP = timedelta(minutes=15)


class InsightParamError(ValueError):
    """A parameter cannot be used (unknown zone or period, reversed or oversized range)."""


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (UTC when empty); InsightParamError when unknown."""
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InsightParamError(f"unknown time zone {name!r}") from exc


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def _floor(moment: datetime, period: str, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    if period == "hourly":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(timezone.utc)
    day = local.date()
    if period == "weekly":
        day -= timedelta(days=day.weekday())
    return _local_midnight(day, tz)


def _step(edge: datetime, period: str, tz: ZoneInfo) -> datetime:
    if period == "hourly":
        return edge + timedelta(hours=1)
    day = edge.astimezone(tz).date() + timedelta(days=7 if period == "weekly" else 1)
    return _local_midnight(day, tz)


@dataclass(frozen=True)
class Buckets:
    """Consecutive buckets: ``edges[i]`` .. ``edges[i+1]`` is bucket ``i`` (aware UTC).

    The chart's buckets are whole, but only [``start``, ``end``) is counted: the range asked
    for, widened to the 15-minute rollup edges (the same rule as the revenue figures), so the
    first and last buckets may be partial.
    """

    edges: tuple[datetime, ...]
    tz: ZoneInfo
    lo: datetime | None = None
    hi: datetime | None = None

    @property
    def start(self) -> datetime:
        """First moment counted."""
        return self.lo or self.edges[0]

    @property
    def end(self) -> datetime:
        """First moment no longer counted."""
        return self.hi or self.edges[-1]

    def __len__(self) -> int:
        return len(self.edges) - 1

    def index(self, moment: datetime) -> int | None:
        """The bucket holding ``moment``, or None outside every bucket."""
        if moment < self.edges[0] or moment >= self.edges[-1]:
            return None
        return bisect_right(self.edges, moment) - 1

    def label(self, i: int) -> str:
        """Bucket ``i``'s start as ISO 8601 in the admin's time zone."""
        return self.edges[i].astimezone(self.tz).isoformat()


def edges_cte(buckets: Buckets) -> CTE:
    """The buckets as a ``WITH edges(i, lo, hi) AS (VALUES ...)`` table, so the database can
    group rows by bucket itself (a range join) instead of shipping every row to Python."""
    rows = [(i, max(buckets.edges[i], buckets.start), min(buckets.edges[i + 1], buckets.end))
            for i in range(len(buckets))]
    return values(column("i", Integer), column("lo", UTCDateTime), column("hi", UTCDateTime),
                  name="edges").data(rows).cte("edges")


def period_buckets(start: datetime, end: datetime, period: str, tz: ZoneInfo) -> Buckets:
    """Buckets of ``period`` covering [start, end) in ``tz``, the first one starting on a boundary."""
    if period not in PERIODS:
        raise InsightParamError(f"period must be one of {', '.join(PERIODS)}")
    if end <= start:
        raise InsightParamError("end must be after start")
    edges = [_floor(start, period, tz)]
    while edges[-1] < end:
        edges.append(_step(edges[-1], period, tz))
        if len(edges) > MAX_BUCKETS + 1:
            raise InsightParamError(f"the range holds more than {MAX_BUCKETS} {period} buckets; "
                                    "choose a shorter range or a longer period")
    return Buckets(tuple(edges), tz, _quarter(start, up=False), _quarter(end, up=True))


def _quarter(moment: datetime, up: bool) -> datetime:
    """``moment`` rounded down (or up) to a 15-minute edge."""
    step = int(ROLLUP_STEP.total_seconds())
    seconds = moment.timestamp()
    edge = (-(-seconds // step) if up else seconds // step) * step
    return datetime.fromtimestamp(edge, timezone.utc)


def fixed_buckets(end: datetime, span: timedelta, step: timedelta, tz: ZoneInfo) -> Buckets:
    """``span / step`` buckets of ``step`` ending at ``end`` rounded up to a ``step`` boundary."""
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    secs = int(step.total_seconds())
    offset = int((end - epoch).total_seconds())
    top = epoch + timedelta(seconds=-(-offset // secs) * secs)
    count = int(span / step)
    return Buckets(tuple(top - step * (count - i) for i in range(count + 1)), tz)


def resolve_range(start: datetime | None, end: datetime | None, period: str,
                  now: datetime) -> tuple[datetime, datetime]:
    """The asked range, or the default span of ``period`` ending now."""
    if period not in PERIODS:
        raise InsightParamError(f"period must be one of {', '.join(PERIODS)}")
    end = end or now
    start = start or end - DEFAULT_SPAN[period]
    if end <= start:
        raise InsightParamError("end must be after start")
    return start, end


def ratio(part: int | float, whole: int | float) -> float | None:
    """``part / whole`` rounded to 4 places, or None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None
