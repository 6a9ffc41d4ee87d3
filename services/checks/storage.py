"""Results of checks: raw rows for what is worth reading one by one, rollups for everything.

Every result bumps its minute, hour and day buckets; a raw row is added only for a failed check
or one that changed the monitor's state (``keep_raw``): successes are the bulk of all checks and
are counted in the buckets, never read one by one (raw successes are what grows a monitoring
database to gigabytes). So uptime over 24 h reads minute buckets, over 30 days at most 720 hour
rows per monitor, instead of ~260,000 raw rows at a 10 s interval.
Only the checking process writes results, one check per monitor at a time, so a bucket is
never bumped by two writers at once (heartbeats only stamp the monitor; the runner judges them).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Float, bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session

from services.checks import histogram
from services.checks.models import DAY, HOUR, MINUTE, RESOLUTIONS, MonitorResult, MonitorRollup

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Retention (days) of each table of results, by config key and default.
RETENTION = {"RETENTION_DAYS_MONITOR_RESULTS": 3, "RETENTION_DAYS_MONITOR_MINUTES": 1,
             "RETENTION_DAYS_MONITOR_HOURS": 90, "RETENTION_DAYS_MONITOR_DAYS": 400}


def bucket_start(at: datetime, resolution: int) -> datetime:
    """The start of the bucket of ``resolution`` seconds holding ``at`` (UTC-aligned)."""
    seconds = int((at - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=seconds - seconds % resolution)


_ROLLUPS = MonitorRollup.__table__.c
_LATENCY = bindparam("latency", type_=Float())
# Built once: the statement is compiled once and cached, so a result costs three executions,
# not three expression builds. The maximum is portable (no GREATEST on SQLite, no 2-argument
# MAX on PostgreSQL); a NULL latency (none measured) leaves it as it is.
_BUMP = (update(MonitorRollup.__table__)
         .where(_ROLLUPS.monitor_id == bindparam("mid"), _ROLLUPS.resolution == bindparam("res"),
                _ROLLUPS.bucket_start == bindparam("start", type_=_ROLLUPS.bucket_start.type))
         .values(checks=_ROLLUPS.checks + 1, up=_ROLLUPS.up + bindparam("up"),
                 latency_count=_ROLLUPS.latency_count + bindparam("measured"),
                 latency_sum_ms=_ROLLUPS.latency_sum_ms + bindparam("latency_sum", type_=Float()),
                 latency_max_ms=case((bindparam("measured") == 0, _ROLLUPS.latency_max_ms),
                                     (_ROLLUPS.latency_max_ms.is_(None), _LATENCY),
                                     (_ROLLUPS.latency_max_ms < _LATENCY, _LATENCY),
                                     else_=_ROLLUPS.latency_max_ms)))
# Hour buckets carry the histogram too (p50/p95 read them): add one and write back. The text
# and check count last written are remembered per monitor, and the write only lands if the row
# still has that count (else it is read again), so a second writer can never lose counts.
_BUMP_HIST = _BUMP.values(latency_hist=bindparam("hist"))
_BUMP_HIST_SEEN = _BUMP_HIST.where(_ROLLUPS.checks == bindparam("seen"))
_last_hist: dict[tuple[int, int], tuple[datetime, int, str | None]] = {}  # (engine, monitor) ->
_FIND_HIST = select(_ROLLUPS.checks, _ROLLUPS.latency_hist).where(
    _ROLLUPS.monitor_id == bindparam("mid"), _ROLLUPS.resolution == bindparam("res"),
    _ROLLUPS.bucket_start == bindparam("start", type_=_ROLLUPS.bucket_start.type))
_ADD_RESULT = insert(MonitorResult.__table__)
_ADD_BUCKET = insert(MonitorRollup.__table__)


def record_result(session: Session, monitor_id: int, at: datetime, ok: bool,
                  latency_ms: float | None, error: str | None, keep_raw: bool | None = None) -> None:
    """Bump the result's minute, hour and day buckets and, for a failure or a state change
    (``keep_raw``; by default failures only), add its raw row (the caller commits)."""
    conn = session.connection()
    if keep_raw or (keep_raw is None and not ok):
        conn.execute(_ADD_RESULT, {"monitor_id": monitor_id, "at": at, "ok": bool(ok),
                                   "latency_ms": latency_ms, "error": (error or None) and error[:200]})
    up, measured = int(bool(ok)), int(latency_ms is not None)
    latency = float(latency_ms or 0.0)
    for resolution in RESOLUTIONS:
        start = bucket_start(at, resolution)
        params = {"mid": monitor_id, "res": resolution, "start": start, "up": up,
                  "measured": measured, "latency_sum": latency, "latency": latency_ms}
        hist = None
        if resolution != HOUR:
            bumped = conn.execute(_BUMP, params).rowcount
        else:
            hist, bumped = _bump_hour(conn, monitor_id, start, params, latency_ms)
        if not bumped:
            conn.execute(_ADD_BUCKET, {"monitor_id": monitor_id, "resolution": resolution,
                                       "bucket_start": start, "checks": 1, "up": up,
                                       "latency_count": measured, "latency_sum_ms": latency,
                                       "latency_max_ms": latency_ms, "latency_hist": hist})
            if resolution == HOUR:
                _last_hist[(id(conn.engine), monitor_id)] = (start, 1, hist)


def _bump_hour(conn, monitor_id: int, start: datetime, params: dict, latency_ms: float | None):
    """Bump the hour bucket with its histogram; returns (new histogram, whether a row was bumped)."""
    key = (id(conn.engine), monitor_id)
    known = _last_hist.get(key)
    if known is not None and known[0] == start:
        hist = histogram.add(known[2], latency_ms)
        if conn.execute(_BUMP_HIST_SEEN, {**params, "hist": hist, "seen": known[1]}).rowcount:
            _last_hist[key] = (start, known[1] + 1, hist)
            return hist, True
    found = conn.execute(_FIND_HIST, params).first()
    hist = histogram.add(found[1] if found else None, latency_ms)
    if found is None:
        return hist, False
    conn.execute(_BUMP_HIST, {**params, "hist": hist})
    _last_hist[key] = (start, found[0] + 1, hist)
    return hist, True


def uptime_from_raw(session: Session, monitor_ids: list[int], since: datetime) -> dict[int, dict]:
    """Per monitor: checks, up and average latency of the raw results since ``since``."""
    rows = session.execute(
        select(MonitorResult.monitor_id, func.count(), func.sum(_ok_int()),
               func.avg(MonitorResult.latency_ms))
        .where(MonitorResult.monitor_id.in_(monitor_ids), MonitorResult.at >= since)
        .group_by(MonitorResult.monitor_id)).all()
    return {mid: {"checks": int(n), "up": int(up or 0), "avg_ms": avg} for mid, n, up, avg in rows}


def _ok_int():
    return case((MonitorResult.ok == True, 1), else_=0)  # noqa: E712 - SQL comparison


def uptime_from_rollups(session: Session, monitor_ids: list[int], resolution: int,
                        since: datetime) -> dict[int, dict]:
    """Per monitor: checks, up, latency sum/count/max of the buckets starting at or after ``since``."""
    rows = session.execute(
        select(MonitorRollup.monitor_id, func.sum(MonitorRollup.checks), func.sum(MonitorRollup.up),
               func.sum(MonitorRollup.latency_sum_ms), func.sum(MonitorRollup.latency_count),
               func.max(MonitorRollup.latency_max_ms))
        .where(MonitorRollup.monitor_id.in_(monitor_ids), MonitorRollup.resolution == resolution,
               MonitorRollup.bucket_start >= since)
        .group_by(MonitorRollup.monitor_id)).all()
    return {mid: {"checks": int(n or 0), "up": int(up or 0),
                  "avg_ms": (s / c) if c else None, "max_ms": mx}
            for mid, n, up, s, c, mx in rows}


def percent(figures: dict | None) -> float | None:
    """Uptime in percent of ``{"checks", "up"}``; None without checks."""
    if not figures or not figures.get("checks"):
        return None
    return round(100.0 * figures["up"] / figures["checks"], 3)


def uptimes(session: Session, monitor_ids: list[int], now: datetime) -> dict[int, dict[str, Any]]:
    """Uptime % over 24 h (minute buckets), 7 d and 30 d (hour buckets), and the 24 h average latency."""
    if not monitor_ids:
        return {}
    day = uptime_from_rollups(session, monitor_ids, MINUTE, bucket_start(now - timedelta(hours=24), MINUTE))
    week = uptime_from_rollups(session, monitor_ids, HOUR, bucket_start(now - timedelta(days=7), HOUR))
    month = uptime_from_rollups(session, monitor_ids, HOUR, bucket_start(now - timedelta(days=30), HOUR))
    spread = latency_percentiles(session, monitor_ids, now)
    return {mid: {"uptime_24h": percent(day.get(mid)), "uptime_7d": percent(week.get(mid)),
                  "uptime_30d": percent(month.get(mid)),
                  "avg_ms_24h": _round(day.get(mid, {}).get("avg_ms")),
                  "checks_24h": day.get(mid, {}).get("checks", 0), **spread.get(mid, {})}
            for mid in monitor_ids}


def latency_percentiles(session: Session, monitor_ids: list[int], now: datetime,
                        hours: int = 24) -> dict[int, dict[str, float | None]]:
    """Per monitor, ``p50_ms_24h`` and ``p95_ms_24h`` from the hour buckets' histograms."""
    since = bucket_start(now - timedelta(hours=hours), HOUR) + timedelta(seconds=HOUR)
    hists: dict[int, list] = {mid: [] for mid in monitor_ids}
    slowest: dict[int, float] = {}
    for mid, hist, mx in session.execute(
            select(MonitorRollup.monitor_id, MonitorRollup.latency_hist, MonitorRollup.latency_max_ms)
            .where(MonitorRollup.monitor_id.in_(monitor_ids), MonitorRollup.resolution == HOUR,
                   MonitorRollup.bucket_start >= since)):
        hists[mid].append(hist)
        if mx is not None:
            slowest[mid] = max(mx, slowest.get(mid, mx))
    out = {}
    for mid, texts in hists.items():
        counts = histogram.merge(texts)
        out[mid] = {"p50_ms_24h": histogram.quantile(counts, 0.5, slowest.get(mid)),
                    "p95_ms_24h": histogram.quantile(counts, 0.95, slowest.get(mid))}
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def series(session: Session, monitor_id: int, now: datetime, hours: int = 24,
           resolution: int = HOUR) -> list[dict[str, Any]]:
    """Buckets of one monitor over the last ``hours`` (oldest first): uptime and latency."""
    since = bucket_start(now - timedelta(hours=hours), resolution) + timedelta(seconds=resolution)
    rows = session.scalars(select(MonitorRollup).where(
        MonitorRollup.monitor_id == monitor_id, MonitorRollup.resolution == resolution,
        MonitorRollup.bucket_start >= since).order_by(MonitorRollup.bucket_start)).all()
    return [{"start": r.bucket_start.isoformat(), "checks": r.checks, "up": r.up,
             "uptime": percent({"checks": r.checks, "up": r.up}),
             "avg_ms": _round(r.latency_sum_ms / r.latency_count) if r.latency_count else None,
             "p50_ms": histogram.quantile(histogram.decode(r.latency_hist), 0.5, r.latency_max_ms),
             "p95_ms": histogram.quantile(histogram.decode(r.latency_hist), 0.95, r.latency_max_ms),
             "max_ms": _round(r.latency_max_ms)} for r in rows]


def sparks(session: Session, monitor_ids: list[int], now: datetime, hours: int = 24
           ) -> dict[int, list[list]]:
    """Per monitor, ``[[hour start, avg ms or None, uptime %], ...]`` over the last ``hours`` (oldest first)."""
    if not monitor_ids:
        return {}
    since = bucket_start(now - timedelta(hours=hours), HOUR) + timedelta(seconds=HOUR)
    out: dict[int, list[list]] = {mid: [] for mid in monitor_ids}
    for r in session.scalars(select(MonitorRollup).where(
            MonitorRollup.monitor_id.in_(monitor_ids), MonitorRollup.resolution == HOUR,
            MonitorRollup.bucket_start >= since).order_by(MonitorRollup.bucket_start)):
        out[r.monitor_id].append([r.bucket_start.isoformat(),
                                  _round(r.latency_sum_ms / r.latency_count) if r.latency_count else None,
                                  percent({"checks": r.checks, "up": r.up})])
    return out


def recent_results(session: Session, monitor_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The newest raw results of one monitor (failures and state changes), newest first."""
    rows = session.scalars(select(MonitorResult).where(MonitorResult.monitor_id == monitor_id)
                           .order_by(MonitorResult.at.desc(), MonitorResult.id.desc()).limit(limit)).all()
    return [{"at": r.at.isoformat(), "ok": r.ok, "latency_ms": _round(r.latency_ms), "error": r.error}
            for r in rows]


def register_retention() -> None:
    """Hook the results and each rollup resolution into services.ops.retention's prune."""
    from services.ops import retention

    retention.register_table("monitor_results", "RETENTION_DAYS_MONITOR_RESULTS",
                             RETENTION["RETENTION_DAYS_MONITOR_RESULTS"], MonitorResult, MonitorResult.at)
    for label, key, resolution in (("monitor_rollups_minute", "RETENTION_DAYS_MONITOR_MINUTES", MINUTE),
                                   ("monitor_rollups_hour", "RETENTION_DAYS_MONITOR_HOURS", HOUR),
                                   ("monitor_rollups_day", "RETENTION_DAYS_MONITOR_DAYS", DAY)):
        retention.register_table(label, key, RETENTION[key], MonitorRollup, MonitorRollup.bucket_start,
                                 MonitorRollup.resolution == resolution)
