"""Storing a validated batch of points: series, raw points and rollups in one transaction.

After the commit, ``metrics.stored`` is published on ``services.infra.bus`` (points and names).

Series are found or created first; a name may have at most ``METRIC_MAX_SERIES`` label sets,
and a batch that would pass that cap is refused whole, the refused points counted per name
(in their own transaction, so the count survives the refusal). Counters' increases need the
series' newest stored point, so those series rows are locked while the batch is written.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from database import utcnow
from services.infra import bulk
from services.infra import bus as events
from services.infra import topics
from services.metrics import rollups
from services.metrics.models import MetricPoint, MetricRefusal, MetricSeries
from services.metrics.validate import MetricError, Point
from services.ingest.rollups import begin_write, dialect_insert

log = logging.getLogger(__name__)
DEFAULT_MAX_SERIES = 200
_CHUNK = 500


@dataclass
class StoreResult:
    """What one batch did."""

    points: int
    new_series: int

    def as_json(self) -> dict:
        """The 202 answer's body."""
        return {"accepted": {"metrics": self.points}, "new_series": self.new_series}


def _existing(session: Session, names: list[str]) -> dict[str, list[tuple[int, str, str]]]:
    """(id, labels_hash, type) of every stored series of ``names``, per name."""
    out: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for i in range(0, len(names), _CHUNK):
        stmt = select(MetricSeries.id, MetricSeries.name, MetricSeries.labels_hash, MetricSeries.type) \
            .where(MetricSeries.name.in_(names[i:i + _CHUNK]))
        for sid, name, lhash, kind in session.execute(stmt):
            out[name].append((sid, lhash, kind))
    return out


def _check_types_and_cap(points: Sequence[Point], existing, max_series: int) -> list[int]:
    """Indexes of the first point of each new series; raises on a type clash or the cap."""
    types = {name: rows[0][2] for name, rows in existing.items() if rows}
    known = {(name, h) for name, rows in existing.items() for _, h, _ in rows}
    per_name = {name: len(rows) for name, rows in existing.items()}
    new_first: dict[tuple[str, str], int] = {}
    over: list[int] = []
    for index, p in enumerate(points):
        kind = types.setdefault(p.name, p.type)
        if kind != p.type:
            raise MetricError(f"metrics[{index}]: {p.name} is a {kind}; a point cannot make it a "
                              f"{p.type}", field="type", index=index, code="type_mismatch")
        if p.key in known or p.key in new_first:
            if p.key in new_first and new_first[p.key] < 0:
                over.append(index)
            continue
        if per_name.get(p.name, 0) >= max_series:
            new_first[p.key] = -1
            over.append(index)
            continue
        per_name[p.name] = per_name.get(p.name, 0) + 1
        new_first[p.key] = index
    if over:
        first = points[over[0]]
        err = MetricError(f"metrics[{over[0]}]: {first.name} already has {max_series} label sets "
                          f"(METRIC_MAX_SERIES); a new one is refused. Drop labels whose values "
                          f"grow without bound (ids, timestamps)", field="labels", index=over[0],
                          code="too_many_series")
        err.refused = [points[i].name for i in over]  # type: ignore[attr-defined]
        raise err
    return [i for i in new_first.values() if i >= 0]


def _create(session: Session, points: Sequence[Point], firsts: list[int], now: datetime) -> None:
    if not firsts:
        return
    rows = [{"name": points[i].name, "labels": dict(points[i].labels),
             "labels_hash": points[i].labels_hash, "type": points[i].type,
             "unit": points[i].unit, "created_at": now} for i in sorted(firsts, key=lambda i: points[i].key)]
    stmt = dialect_insert(session)(MetricSeries.__table__).on_conflict_do_nothing(
        index_elements=["name", "labels_hash"])
    session.execute(stmt, rows)


def _ids(session: Session, points: Sequence[Point]) -> dict[tuple[str, str], int]:
    """The id of every series the batch names (all exist by now)."""
    found = _existing(session, sorted({p.name for p in points}))
    return {(name, lhash): sid for name, rows in found.items() for sid, lhash, _ in rows}


def _counter_state(session: Session, ids: list[int]) -> dict[int, tuple[float | None, datetime | None]]:
    """The newest stored point of each counter series, locked until the commit (PostgreSQL)."""
    if not ids:
        return {}
    stmt = select(MetricSeries.id, MetricSeries.last_value, MetricSeries.last_at) \
        .where(MetricSeries.id.in_(sorted(ids))).order_by(MetricSeries.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return {sid: (v, at) for sid, v, at in session.execute(stmt)}


def _rows(points: Sequence[Point], ids, counters) -> list[tuple[int, datetime, float, float | None]]:
    rows: list = [None] * len(points)
    per_series: dict[int, list[int]] = defaultdict(list)
    for index, p in enumerate(points):
        sid = ids[p.key]
        if p.type == "counter":
            per_series[sid].append(index)
        else:
            rows[index] = (sid, p.ts, p.value, None)
    for sid, indexes in per_series.items():
        last_value, last_at = counters.get(sid, (None, None))
        increases = rollups.counter_increases([(points[i].ts, points[i].value) for i in indexes],
                                              last_value, last_at)
        for i, inc in zip(indexes, increases):
            rows[i] = (sid, points[i].ts, points[i].value, inc)
    return rows


def _insert_points(session: Session, rows) -> None:
    """The raw points: on SQLite one driver-level executemany of plain tuples (times as the
    stored text), elsewhere the shared bulk insert."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql(
            'INSERT INTO "metric_points" ("series_id", "ts", "value", "increase") VALUES (?, ?, ?, ?)',
            [(sid, rollups.sqlite_text(at), value, inc) for sid, at, value, inc in rows])
        return
    bulk.insert(session, MetricPoint.__table__,
                [{"series_id": r[0], "ts": r[1], "value": r[2], "increase": r[3]} for r in rows])


def _update_last(session: Session, rows) -> None:
    newest: dict[int, tuple[datetime, float]] = {}
    for sid, at, value, _ in rows:
        if sid not in newest or at >= newest[sid][0]:
            newest[sid] = (at, value)
    t = MetricSeries.__table__
    stmt = update(t).where(t.c.id == bindparam("sid"),
                           or_(t.c.last_at.is_(None), t.c.last_at <= bindparam("at"))) \
        .values(last_value=bindparam("value"), last_at=bindparam("at"))
    session.execute(stmt, [{"sid": sid, "at": at, "value": v} for sid, (at, v) in sorted(newest.items())],
                    execution_options={"synchronize_session": False})


def count_refusals(session: Session, names: list[str], now: datetime | None = None) -> None:
    """Add the refused points per name (after the batch was rolled back), in its own commit."""
    now = now or utcnow()
    per_name: dict[str, int] = defaultdict(int)
    for name in names:
        per_name[name] += 1
    t = MetricRefusal.__table__
    stmt = dialect_insert(session)(t)
    stmt = stmt.on_conflict_do_update(index_elements=[t.c.name],
                                      set_={"refused": t.c.refused + stmt.excluded.refused,
                                            "last_at": stmt.excluded.last_at})
    try:
        session.execute(stmt, [{"name": n, "refused": c, "last_at": now} for n, c in sorted(per_name.items())])
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.warning("could not count refused metric points", exc_info=True)


def store(session: Session, points: Sequence[Point], max_series: int = DEFAULT_MAX_SERIES,
          now: datetime | None = None) -> StoreResult:
    """Write ``points`` (validated) in one transaction and commit; nothing is kept on an error.

    Raises ``MetricError`` (code ``too_many_series`` or ``type_mismatch``) before writing.
    """
    now = now or utcnow()
    if not points:
        return StoreResult(0, 0)
    try:
        begin_write(session)
        existing = _existing(session, sorted({p.name for p in points}))
        try:
            firsts = _check_types_and_cap(points, existing, max_series)
        except MetricError as exc:
            session.rollback()
            if exc.code == "too_many_series":
                count_refusals(session, exc.refused, now)  # type: ignore[attr-defined]
            raise
        _create(session, points, firsts, now)
        ids = _ids(session, points)
        counters = _counter_state(session, sorted({ids[p.key] for p in points if p.type == "counter"}))
        rows = _rows(points, ids, counters)
        _insert_points(session, rows)
        rollups.apply(session, rows)
        _update_last(session, rows)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    # After the commit: what listens (a live chart) only ever hears of points really stored.
    events.publish(topics.METRICS_STORED, {"points": len(points), "names": sorted({p.name for p in points})})
    return StoreResult(len(points), len(firsts))
