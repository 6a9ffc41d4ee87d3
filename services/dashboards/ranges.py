"""A widget query's named range (``24h``, ``today``, ``7d`` …) as a (start, end) pair at ``now``."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

SPANS = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1), "6h": timedelta(hours=6),
         "24h": timedelta(hours=24), "7d": timedelta(days=7), "28d": timedelta(days=28),
         "30d": timedelta(days=30)}


def local_midnight(now: datetime, tz: ZoneInfo, days_back: int = 0) -> datetime:
    """The start of the local day ``days_back`` days before ``now``'s, as aware UTC."""
    day = now.astimezone(tz).date() - timedelta(days=days_back)
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def resolve(name: str, tz_name: str, now: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the range ``name`` in time zone ``tz_name``, ending now (or at midnight)."""
    tz = ZoneInfo(tz_name)
    if name == "today":
        return local_midnight(now, tz), now
    if name == "yesterday":
        return local_midnight(now, tz, 1), local_midnight(now, tz)
    return now - SPANS[name], now


def days_of(name: str) -> int:
    """Whole days a range covers (at least 1): the heatmap's span."""
    span = SPANS.get(name, timedelta(days=1))
    return max(1, span.days)
