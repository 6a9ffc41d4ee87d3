"""Per-minute and per-hour rollups of pushed points, kept exact at ingest by atomic upserts.

A batch's points are folded in memory into one row per series and bucket, then added with
``INSERT ... ON CONFLICT DO UPDATE`` (count, sum and increase added, min and max compared,
last taken from whichever side is newer), so concurrent writers never lose each other's
points on SQLite or PostgreSQL. Counters get their increase here: the rise since the
series' previous point, or the value itself after a reset (a counter that went down
restarted from zero), so a rate read from the rollups survives restarts of the sender.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from sqlalchemy import case
from sqlalchemy.orm import Session

from services.metrics.models import MetricHour, MetricMinute
from services.ingest.rollups import dialect_insert

MINUTE, HOUR = 60, 3600
TABLES = ((MINUTE, MetricMinute), (HOUR, MetricHour))


def floor_to(moment: datetime, seconds: int) -> datetime:
    """``moment`` floored to a multiple of ``seconds`` since 1970, aware UTC."""
    epoch = int(moment.timestamp() // seconds) * seconds
    return datetime.fromtimestamp(epoch, timezone.utc)


@dataclass
class Bucket:
    """What a rollup row holds; also what every query reducer is computed from."""

    count: int
    sum: float
    min: float
    max: float
    last: float
    last_at: datetime
    increase: float

    @classmethod
    def of(cls, value: float, at: datetime, increase: float | None) -> "Bucket":
        """A bucket holding one point."""
        return cls(1, value, value, value, value, at, increase or 0.0)

    def add(self, other: "Bucket") -> None:
        """Fold ``other`` in (the later ``last_at`` wins the last value; a tie keeps the newcomer)."""
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        if other.last_at >= self.last_at:
            self.last, self.last_at = other.last, other.last_at
        self.increase += other.increase

    def copy(self) -> "Bucket":
        """An independent copy (folding must not change a stored row's object)."""
        return Bucket(self.count, self.sum, self.min, self.max, self.last, self.last_at, self.increase)


def counter_increases(points: Sequence[tuple[datetime, float]], last_value: float | None,
                      last_at: datetime | None) -> list[float | None]:
    """Each point's increase, given the series' newest stored point.

    Points are taken in time order; a point older than the newest one seen (late) adds
    nothing, since its place in the sequence is no longer known. The very first point of a
    series adds nothing either: there is nothing to rise from.
    """
    order = sorted(range(len(points)), key=lambda i: points[i][0])
    out: list[float | None] = [0.0] * len(points)
    prev, prev_at = last_value, last_at
    for i in order:
        at, value = points[i]
        if prev_at is not None and at < prev_at:
            continue
        if prev is not None:
            out[i] = value - prev if value >= prev else value
        prev, prev_at = value, at
    return out


def fold(rows: Iterable[tuple[int, datetime, float, float | None]], seconds: int) -> dict:
    """``(series_id, ts, value, increase)`` rows summed per (series_id, bucket)."""
    slots: dict[tuple[int, int], Bucket] = {}
    for series_id, at, value, increase in rows:
        key = (series_id, int(at.timestamp() // seconds))
        bucket = slots.get(key)
        if bucket is None:
            slots[key] = Bucket(1, value, value, value, value, at, increase or 0.0)
        else:  # inlined Bucket.add: this loop runs once per point and table
            bucket.count += 1
            bucket.sum += value
            if value < bucket.min:
                bucket.min = value
            if value > bucket.max:
                bucket.max = value
            if at >= bucket.last_at:
                bucket.last, bucket.last_at = value, at
            bucket.increase += increase or 0.0
    return {(sid, datetime.fromtimestamp(slot * seconds, timezone.utc)): b
            for (sid, slot), b in slots.items()}


_COLUMNS = ("series_id", "bucket", "count", "sum", "min", "max", "last", "last_at", "increase")


def sqlite_text(moment: datetime) -> str:
    """An aware UTC time as SQLite's DateTime stores it (naive UTC, six decimals): the text
    SQLAlchemy's processor would bind, written directly (it is most of a batch's bind cost)."""
    if moment.utcoffset():
        moment = moment.astimezone(timezone.utc)
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} {moment.hour:02d}:"
            f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}")


def _sqlite_upsert(session: Session, model, folded: dict) -> None:
    """The same upsert as one driver-level executemany: SQLAlchemy's per-row parameter work
    costs more than SQLite's own (as in ``services.infra.bulk``)."""
    table = model.__table__
    when = sqlite_text
    names = ", ".join(f'"{c}"' for c in _COLUMNS)
    sql = (f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(_COLUMNS))}) '
           'ON CONFLICT (series_id, bucket) DO UPDATE SET count = count + excluded.count, '
           'sum = sum + excluded.sum, min = MIN(min, excluded.min), max = MAX(max, excluded.max), '
           'last = CASE WHEN excluded.last_at >= last_at THEN excluded.last ELSE last END, '
           'last_at = MAX(last_at, excluded.last_at), increase = increase + excluded.increase')

    data = [(key[0], when(key[1]), b.count, b.sum, b.min, b.max, b.last, when(b.last_at), b.increase)
            for key, b in sorted(folded.items())]
    session.connection().exec_driver_sql(sql, data)


def _upsert(session: Session, model, folded: dict) -> None:
    if session.get_bind().dialect.name == "sqlite":
        _sqlite_upsert(session, model, folded)
        return
    table = model.__table__
    stmt = dialect_insert(session)(table)
    new = stmt.excluded
    newer = new.last_at >= table.c.last_at
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.series_id, table.c.bucket],
        set_={
            "count": table.c.count + new.count,
            "sum": table.c.sum + new.sum,
            "min": case((new.min < table.c.min, new.min), else_=table.c.min),
            "max": case((new.max > table.c.max, new.max), else_=table.c.max),
            "last": case((newer, new.last), else_=table.c.last),
            "last_at": case((newer, new.last_at), else_=table.c.last_at),
            "increase": table.c.increase + new.increase,
        },
    )
    # Key order: two writers touching the same buckets lock them in the same order (no deadlock).
    params: list[dict[str, Any]] = [
        {"series_id": key[0], "bucket": key[1], "count": b.count, "sum": b.sum, "min": b.min,
         "max": b.max, "last": b.last, "last_at": b.last_at, "increase": b.increase}
        for key, b in sorted(folded.items())]
    session.execute(stmt, params)


def apply(session: Session, rows: Sequence[tuple[int, datetime, float, float | None]]) -> int:
    """Add the points ``rows`` to the minute and hour rollups; returns buckets touched."""
    touched = 0
    for seconds, model in TABLES:
        folded = fold(rows, seconds)
        if folded:
            _upsert(session, model, folded)
        touched += len(folded)
    return touched
