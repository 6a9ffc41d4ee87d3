"""The metric catalogue: pushed series and every provider's built-in series, one shape for all.

A provider owns some metric names and answers two questions: which series it has (for the
catalogue) and which buckets a series holds over a range (for the query). The panel's own
figures register one at import (``services.metrics.builtins``); later features (service
checks, products) add theirs with ``register``. Pushed metrics are the fallback for any name
no provider owns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.metrics.models import MetricMinute, MetricSeries
from services.metrics.rollups import Bucket

CATALOG_LIMIT = 5000
RATE_WINDOW_MINUTES = 10


@dataclass
class SeriesRows:
    """One series and its buckets (start as seconds since 1970, Bucket) over the range asked for.

    Seconds rather than datetimes: a query folds thousands of rows, and a number per row is
    what it needs (``Bucket.last_at`` compares within one series, either kind works).
    """

    name: str
    labels: dict[str, str]
    type: str
    unit: str | None
    rows: list[tuple[float, Bucket]] = field(default_factory=list)


class Provider(Protocol):
    """What a source of built-in metrics implements."""

    names: tuple[str, ...]

    def catalog(self, session: Session, now: datetime, config: dict) -> list[dict[str, Any]]:
        """Its series as catalogue entries."""

    def fetch(self, session: Session, name: str, start: datetime, end: datetime, step: int,
              keep: Callable[[dict[str, str]], bool], config: dict) -> tuple[str, list[SeriesRows]]:
        """(resolution, the series of ``name`` that ``keep`` accepts with their buckets)."""


_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> None:
    """Add a provider of built-in metrics; a name it owns is answered by it, never by pushes."""
    owned = {n for p in _PROVIDERS for n in p.names}
    clash = owned & set(provider.names)
    if clash:
        raise ValueError(f"metric names already provided: {sorted(clash)}")
    _PROVIDERS.append(provider)


def provider_for(name: str) -> Provider | None:
    """The provider owning ``name``; None for a pushed metric."""
    for provider in _PROVIDERS:
        if name in provider.names:
            return provider
    return None


def builtin_names() -> set[str]:
    """Every name a provider owns (pushes under these names are refused)."""
    return {n for p in _PROVIDERS for n in p.names}


def entry(name: str, labels: dict[str, str], kind: str, unit: str | None, last_value: float | None,
          last_at: datetime | None, per_minute: float) -> dict[str, Any]:
    """One catalogue entry, the same shape for built-in and pushed series."""
    return {"name": name, "labels": labels, "type": kind, "unit": unit, "last_value": last_value,
            "last_at": last_at.isoformat() if last_at else None,
            "points_per_minute": round(per_minute, 3)}


def pushed(session: Session, now: datetime, q: str | None = None,
           limit: int = CATALOG_LIMIT) -> tuple[list[dict[str, Any]], bool]:
    """Pushed series (name containing ``q`` when given), and whether the list was cut at ``limit``."""
    since = now - timedelta(minutes=RATE_WINDOW_MINUTES)
    rates = dict(session.execute(
        select(MetricMinute.series_id, func.sum(MetricMinute.count))
        .where(MetricMinute.bucket >= since).group_by(MetricMinute.series_id)).all())
    stmt = select(MetricSeries).order_by(MetricSeries.name, MetricSeries.id).limit(limit + 1)
    if q:
        stmt = stmt.where(MetricSeries.name.contains(q, autoescape=True))
    rows = list(session.scalars(stmt))
    out = [entry(s.name, s.labels, s.type, s.unit, s.last_value, s.last_at,
                 float(rates.get(s.id) or 0) / RATE_WINDOW_MINUTES) for s in rows[:limit]]
    return out, len(rows) > limit


def catalog(session: Session, now: datetime, config: dict, q: str | None = None) -> dict[str, Any]:
    """Every series, built-in first, then pushed; ``q`` keeps names containing it."""
    series: list[dict[str, Any]] = []
    for provider in _PROVIDERS:
        if q and not any(q in n for n in provider.names):
            continue
        series.extend(e for e in provider.catalog(session, now, config) if not q or q in e["name"])
    own, truncated = pushed(session, now, q)
    return {"series": series + own, "truncated": truncated}


def rows_of(items: Iterable[tuple[datetime, float]]) -> list[tuple[float, Bucket]]:
    """Plain (time, value) samples as buckets of one point each."""
    return [(at.timestamp(), Bucket.of(value, at, None)) for at, value in items]
