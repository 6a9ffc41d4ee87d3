"""``GET /admin/api/metrics/query``: points per series, built-in and pushed alike.

The resolution follows the step: a step that is a whole number of hours reads the hourly
rollups, of minutes the per-minute rollups, anything finer the raw points. A query reads at
most (range / bucket) rows per series, so its cost follows the range and step asked for,
never the number of points stored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from sqlalchemy import Float, Integer, bindparam, cast, func, select
from sqlalchemy.orm import Session

from services.metrics import catalogue
from database import UTCDateTime
from services.metrics.catalogue import SeriesRows
from services.metrics.models import MetricHour, MetricMinute, MetricPoint, MetricSeries
from services.metrics.rollups import HOUR, MINUTE, Bucket
from services.metrics.validate import LABEL_RE, MetricError, check_name

AGGS = ("avg", "min", "max", "sum", "last", "count", "rate")
MAX_SLOTS = 11_000
MAX_RANGE = timedelta(days=400)
MAX_STEP = 31 * 86_400
# Rows one series may make a query read; past it, a coarser step is asked for.
MAX_ROWS_PER_SERIES = 200_000
DEFAULT_STEPS = (10, 60, 300, 900, 3600, 21_600, 86_400)
_DURATION = re.compile(r"([0-9]{1,8})([smhd]?)", re.ASCII)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(!=|=)\s*("(?:[^"\\]|\\.)*"|[^,]*?)\s*(?:,|$)')


@dataclass
class Query:
    """A parsed query."""

    name: str
    agg: str
    step: int
    start: datetime
    end: datetime
    matchers: list[tuple[str, str, str]]
    group_by: list[str] | None

    def keep(self, labels: Mapping[str, str]) -> bool:
        """Whether a series' labels satisfy every matcher (a missing label reads as "")."""
        for key, op, value in self.matchers:
            if (labels.get(key, "") == value) != (op == "="):
                return False
        return True


def parse_step(raw: str | None) -> int | None:
    """A step as seconds: ``90``, ``30s``, ``5m``, ``1h``, ``1d``."""
    if raw is None or raw == "":
        return None
    m = _DURATION.fullmatch(raw)
    if not m:
        raise MetricError("step must be seconds or a duration like 30s, 5m, 1h, 1d", field="step")
    step = int(m.group(1)) * _UNITS[m.group(2)]
    if not 1 <= step <= MAX_STEP:
        raise MetricError(f"step must be between 1 s and {MAX_STEP // 86400} days", field="step")
    return step


def parse_matchers(raw: str | None) -> list[tuple[str, str, str]]:
    """``job="api",env!=dev`` as (label, op, value); a quoted value may hold commas."""
    if not raw:
        return []
    out, pos = [], 0
    while pos < len(raw):
        m = _MATCHER.match(raw, pos)
        if not m or m.end() == pos:
            raise MetricError('match must be label=value or label!=value, comma separated',
                              field="match")
        value = m.group(3)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((m.group(1), m.group(2), value))
        pos = m.end()
    return out


def parse(args: Mapping[str, str], now: datetime,
          time_arg: Callable[[str], datetime | None]) -> Query:
    """A query from its parameters; ``time_arg`` reads start/end (ISO 8601)."""
    name = check_name(args.get("name"), "name")
    agg = args.get("agg") or "avg"
    if agg not in AGGS:
        raise MetricError(f"agg must be one of {', '.join(AGGS)}", field="agg")
    end = time_arg("end") or now
    start = time_arg("start") or end - timedelta(hours=1)
    if start >= end:
        raise MetricError("start must be before end", field="start")
    if end - start > MAX_RANGE:
        raise MetricError(f"a query covers at most {MAX_RANGE.days} days", field="start")
    span = (end - start).total_seconds()
    step = parse_step(args.get("step"))
    if step is None:
        step = next((s for s in DEFAULT_STEPS if span / s <= 1000), DEFAULT_STEPS[-1])
    if span / step > MAX_SLOTS:
        raise MetricError(f"range / step gives more than {MAX_SLOTS} points; use a larger step",
                          field="step")
    group_by = None
    if args.get("group_by") is not None:
        group_by = [g.strip() for g in args["group_by"].split(",") if g.strip()]
        bad = [g for g in group_by if not LABEL_RE.fullmatch(g) or len(g) > 100]
        if bad or len(group_by) > 10:
            raise MetricError("group_by must be up to 10 label names, comma separated",
                              field="group_by")
    return Query(name, agg, step, start, end, parse_matchers(args.get("match")), group_by)


def resolution(step: int) -> int:
    """Bucket seconds to read for ``step``: hour, minute, or 0 for raw points."""
    return HOUR if step % HOUR == 0 else MINUTE if step % MINUTE == 0 else 0


def series_of(session: Session, name: str, max_series: int) -> list:
    """(id, name, labels, type, unit) rows of the pushed series of ``name``, by id."""
    m = MetricSeries
    return list(session.execute(select(m.id, m.name, m.labels, m.type, m.unit).where(m.name == name)
                                .order_by(m.id).limit(max_series)))


def fetch_pushed(session: Session, q: Query, max_series: int,
                 known: list | None = None) -> tuple[str, list[SeriesRows]]:
    """The pushed series of ``q.name`` that match, with their buckets over the range
    (``known``: the name's ``series_of`` rows, when the caller already read them)."""
    bucket = resolution(q.step)
    if known is None:
        known = series_of(session, q.name, max_series)
    series = [s for s in known if q.keep(s.labels)]
    if not series:
        return ("hour" if bucket == HOUR else "minute" if bucket else "raw"), []
    start = datetime.fromtimestamp(q.start.timestamp() // q.step * q.step, timezone.utc)
    if bucket and (q.end - start).total_seconds() / bucket > MAX_ROWS_PER_SERIES:
        raise MetricError("this range at this step reads too many rows; use a step that is a "
                          "whole number of hours", field="step")
    by_id = {s.id: SeriesRows(s.name, s.labels, s.type, s.unit) for s in series}
    ids = sorted(by_id)
    stmt = _read_statement(bucket, session.get_bind().dialect.name)
    args = {"ids": ids, "start": start, "end": q.end}
    if bucket:
        for sid, at, count, total, low, high, last, last_at, inc in session.execute(stmt, args):
            by_id[sid].rows.append((float(at), Bucket(count, total, low, high, last, float(last_at), inc)))
    else:
        for sid, at, value, increase in session.execute(stmt, args):
            at = float(at)
            by_id[sid].rows.append((at, Bucket(1, value, value, value, value, at, increase or 0.0)))
    return ("hour" if bucket == HOUR else "minute" if bucket else "raw"), list(by_id.values())


_STATEMENTS: dict[tuple[int, str], Any] = {}


def _read_statement(bucket: int, dialect: str):
    """The rows of some series over a range (``ids``, ``start``, ``end`` bound at execution),
    built once per resolution and database: composing it cost more than running it on a
    month of hourly rows, and a tick of many rules runs it once per rule."""
    key = (bucket, dialect)
    if key not in _STATEMENTS:
        ids = bindparam("ids", expanding=True)
        start, end = bindparam("start", type_=UTCDateTime), bindparam("end", type_=UTCDateTime)
        if bucket:
            model = MetricHour if bucket == HOUR else MetricMinute
            stmt = select(model.series_id, epoch(model.bucket, dialect), model.count, model.sum, model.min,
                          model.max, model.last, epoch(model.last_at, dialect), model.increase) \
                .where(model.series_id.in_(ids), model.bucket >= start, model.bucket < end) \
                .order_by(model.series_id, model.bucket)
        else:
            p = MetricPoint
            stmt = select(p.series_id, epoch(p.ts, dialect), p.value, p.increase) \
                .where(p.series_id.in_(ids), p.ts >= start, p.ts < end).order_by(p.series_id, p.ts)
        _STATEMENTS[key] = stmt
    return _STATEMENTS[key]


def epoch(column, dialect: str):
    """``column`` (naive UTC) as seconds since 1970 computed by the database: a number per row
    is much cheaper to read back than a datetime parsed from text (SQLite) or built by the driver."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", column), Float)
    # Exact: whole seconds from strftime, then the stored text's ".ffffff" (julianday's double
    # would put a bucket that starts on the hour a hair before it, in the previous window).
    return cast(func.strftime("%s", column), Integer) + cast(func.substr(column, 20), Float)


def _value(b: Bucket, agg: str, step: int) -> float:
    if agg == "avg":
        return b.sum / b.count
    if agg == "rate":
        return b.increase / step
    return float(getattr(b, agg))


def aggregate(q: Query, series: list[SeriesRows]) -> list[dict[str, Any]]:
    """Fold each series' (or group's) buckets into step-wide slots and reduce them with ``q.agg``."""
    groups: dict[tuple, dict[int, Bucket]] = {}
    labels_of: dict[tuple, dict[str, str]] = {}
    for s in series:
        if q.group_by is None:
            labels = dict(s.labels)
        else:
            labels = {k: s.labels.get(k, "") for k in q.group_by}
        key = tuple(sorted(labels.items()))
        labels_of[key] = labels
        slots = groups.setdefault(key, {})
        for at, bucket in s.rows:
            slot = int(at // q.step)
            if slot in slots:
                slots[slot].add(bucket)
            else:
                slots[slot] = bucket.copy()
    out = []
    for key in sorted(groups):
        slots = groups[key]
        points = [[datetime.fromtimestamp(slot * q.step, timezone.utc).isoformat(),
                   _value(slots[slot], q.agg, q.step)] for slot in sorted(slots) if slots[slot].count]
        out.append({"labels": labels_of[key], "points": points})
    return out


def run(session: Session, q: Query, config: dict) -> dict[str, Any]:
    """Answer ``q`` from its provider (built-in) or the pushed series."""
    provider = catalogue.provider_for(q.name)
    if provider is not None:
        res, series = provider.fetch(session, q.name, q.start, q.end, q.step, q.keep, config)
    else:
        res, series = fetch_pushed(session, q, int(config.get("METRIC_MAX_SERIES") or 200))
    if q.agg == "rate" and any(s.type != "counter" for s in series):
        raise MetricError(f"rate needs a counter; {q.name} is a gauge", field="agg")
    first = series[0] if series else None
    return {"name": q.name, "agg": q.agg, "step": q.step, "start": q.start.isoformat(),
            "end": q.end.isoformat(), "resolution": res,
            "type": first.type if first else None, "unit": first.unit if first else None,
            "series": aggregate(q, series)}
