"""Revenue analytics from the 15-minute rollups: buckets in the admin's time zone and a summary.

The cost grows with the number of 15-minute rollups in the range asked for, never
with the number of transactions: a few queries read the covering index of
``currency_rollups`` (the currencies present, revenue and orders per currency, the
chosen currency per hour or quarter hour, its total for the previous range), then
each row lands in its local hour, day or week (Monday) in one forward walk. Two
currencies are never added together: one is reported (the one asked for, else the
one with the most revenue) and the others are listed with their own totals.

An order is a completed transaction, here as on every page: pending, failed and
refunded payments are transactions but no orders, and earn no revenue.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.ingest import CurrencyRollup
from services.insights.buckets import (
    ROLLUP_STEP, Buckets, InsightParamError, period_buckets, ratio, resolve_range, zone,
)

# Matched against what was sent, before upper-casing ("ısd".upper() is "ISD").
CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$", re.ASCII)
_STATUS = ("completed", "pending", "failed", "refunded")


class AnalyticsParamError(InsightParamError):
    """A parameter of an analytics query cannot be used (answered 400)."""


@dataclass(frozen=True)
class RevenueQuery:
    """What a revenue answer covers: whole ``buckets`` for the chart, and the data range
    [start, end): the asked range on 15-minute rollup edges, inside those buckets."""

    buckets: Buckets
    start: datetime
    end: datetime


def plan(period: str, start: datetime | None, end: datetime | None, tz_name: str | None,
         now: datetime) -> RevenueQuery:
    """The buckets and data range of a revenue query: the asked range (or a default span
    ending now) in whole buckets of ``period`` in the time zone ``tz_name``.

    Data is counted from ``start`` rounded down to a 15-minute rollup edge up to ``end``
    rounded up to one, so "today until now" compared with "yesterday until this
    time" compares like with like to within one rollup, not one bucket. A range
    reaching past ``now`` is counted up to ``now`` (rounded up likewise): nothing
    has happened later, and the growth rate must compare the partial period with
    the same length before it, not with a whole one.
    """
    tz = zone(tz_name)
    start, end = resolve_range(start, end, period, now)
    buckets = period_buckets(start, end, period, tz)
    data_start = _floor_to(start, ROLLUP_STEP)
    data_end = _ceil_to(end, ROLLUP_STEP)
    until_now = _ceil_to(now, ROLLUP_STEP)
    if data_start < until_now < data_end:
        data_end = until_now
    return RevenueQuery(buckets, max(data_start, buckets.start), min(data_end, buckets.end))


def _floor_to(moment: datetime, step: timedelta) -> datetime:
    seconds = int(step.total_seconds())
    return datetime.fromtimestamp(int(moment.timestamp()) // seconds * seconds, timezone.utc)


def _ceil_to(moment: datetime, step: timedelta) -> datetime:
    floor = _floor_to(moment, step)
    return floor if floor == moment else floor + step


def normalise_currency(raw: str | None) -> str | None:
    """An ISO 4217 code in upper case, None when not given; AnalyticsParamError when malformed."""
    if raw is None or raw == "":
        return None
    code = raw.strip()
    if not CURRENCY_RE.match(code):
        raise AnalyticsParamError("currency must be a three-letter ISO 4217 code such as EUR")
    return code.upper()


def revenue(session: Session, query: RevenueQuery, currency: str | None = None) -> dict[str, Any]:
    """Revenue per bucket and its summary for one currency over ``query``.

    ``currency`` None picks the currency with the most revenue in the range.
    Growth compares with the range of the same length just before.
    """
    buckets, start, end = query.buckets, query.start, query.end
    totals = _currency_totals(session, start, end)
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))
    chosen = currency or (ranked[0][0] if ranked else None)

    out = [_empty_bucket(buckets.label(i)) for i in range(len(buckets))]
    previous = 0
    if chosen:
        edges = buckets.edges
        i = 0
        # Rows come sorted by time, so one forward walk over the edges places them all.
        for moment, revenue_cents, *counts in _rollup_rows(session, chosen, query):
            while moment >= edges[i + 1]:
                i += 1
            b = out[i]
            b["revenue_cents"] += int(revenue_cents)
            for name, value in zip(_STATUS, counts):
                b[name] += int(value)
        previous = _revenue_total(session, chosen, start - (end - start), start)
    for b in out:
        b["transactions"] = b["completed"] + b["pending"] + b["failed"] + b["refunded"]
    summary = summarise(out, previous)
    tz = buckets.tz
    summary["previous_start"] = (start - (end - start)).astimezone(tz).isoformat()
    summary["previous_end"] = start.astimezone(tz).isoformat()
    return {
        "currency": chosen,
        # Every currency of the range with its own revenue and orders: amounts side by side,
        # never added; order counts may be added up by a client (a count has no currency).
        "currencies": [{"currency": code, "revenue_cents": rev, "orders": orders}
                       for code, (rev, orders) in ranked],
        "other_currencies": [code for code, _ in ranked if code != chosen],
        "buckets": out,
        "summary": summary,
    }


def summarise(buckets: list[dict[str, Any]], previous_cents: int) -> dict[str, Any]:
    """Totals, averages, the peak bucket, success and growth rates of a bucket series.

    ``orders`` are completed transactions (the panel's one definition of an order);
    ``transactions`` counts every status. ``average_cents`` is per bucket (empty ones
    included); ``average_transaction_cents`` is revenue per order; ``success_rate`` is
    completed / (completed + failed); ``growth_rate`` is (total - previous) / previous.
    Rates are fractions (0.25 = 25 %), None when there is nothing to divide by.
    """
    total = sum(b["revenue_cents"] for b in buckets)
    completed = sum(b["completed"] for b in buckets)
    failed = sum(b["failed"] for b in buckets)
    peak = max(buckets, key=lambda b: b["revenue_cents"], default=None)
    return {
        "total_cents": total,
        "average_cents": _div(total, len(buckets)),
        "peak": ({"start": peak["start"], "revenue_cents": peak["revenue_cents"]}
                 if peak and peak["revenue_cents"] > 0 else None),
        "transactions": sum(b["transactions"] for b in buckets),
        "orders": completed,
        "completed": completed,
        "failed": failed,
        "average_transaction_cents": _div(total, completed),
        "success_rate": ratio(completed, completed + failed),
        "previous_total_cents": previous_cents,
        "growth_rate": ratio(total - previous_cents, previous_cents),
    }


def _div(total: int, count: int) -> int | None:
    """Whole cents, half rounded up (money is never a float)."""
    if not count:
        return None
    return int((Decimal(total) / Decimal(count)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _empty_bucket(start: str) -> dict[str, Any]:
    return {"start": start, "revenue_cents": 0, "transactions": 0,
            "completed": 0, "pending": 0, "failed": 0, "refunded": 0}


def _currency_codes(session: Session) -> list[str]:
    """Every currency in the rollups, by a loose index scan (one index probe per currency)."""
    sql = text(
        "WITH RECURSIVE c(code) AS ("
        " SELECT MIN(currency) FROM currency_rollups"
        " UNION ALL"
        " SELECT (SELECT MIN(currency) FROM currency_rollups WHERE currency > c.code)"
        " FROM c WHERE c.code IS NOT NULL)"
        " SELECT code FROM c WHERE code IS NOT NULL")
    return [code for (code,) in session.execute(sql)]


def _currency_totals(session: Session, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """(revenue, orders) per currency with any rollup in [start, end).

    Only revenue and orders are summed: this query reads every currency's rollups
    (from the covering index), and leaving the other status counts out keeps it
    cheap (see bench/analytics.py).
    """
    codes = _currency_codes(session)
    if not codes:
        return {}
    r = CurrencyRollup
    stmt = (select(r.currency, func.sum(r.revenue_cents), func.sum(r.completed))
            .where(r.currency.in_(codes), r.bucket_start >= start, r.bucket_start < end)
            .group_by(r.currency))
    return {code: (int(rev or 0), int(orders or 0)) for code, rev, orders in session.execute(stmt)}


def _revenue_total(session: Session, currency: str, start: datetime, end: datetime) -> int:
    r = CurrencyRollup
    total = session.scalar(select(func.sum(r.revenue_cents)).where(
        r.currency == currency, r.bucket_start >= start, r.bucket_start < end))
    return int(total or 0)


def _rollup_rows(session: Session, currency: str, query: RevenueQuery) -> list[tuple]:
    """(UTC start, revenue, completed, pending, failed, refunded) in time order (channels summed
    already: ``currency_rollups``).

    When every bucket edge is a whole UTC hour (any zone with whole-hour offsets)
    the database sums the four quarters of each hour first, so a quarter as many
    rows come back; otherwise (e.g. Asia/Kolkata) rows stay at 15 minutes.
    """
    r = CurrencyRollup
    sums = (func.sum(r.revenue_cents), func.sum(r.completed), func.sum(r.pending),
            func.sum(r.failed), func.sum(r.refunded))
    where = (r.currency == currency, r.bucket_start >= query.start, r.bucket_start < query.end)
    dialect = session.get_bind().dialect.name
    if not all(e.minute == 0 and e.second == 0 for e in query.buckets.edges):
        stmt = select(r.bucket_start, *sums).where(*where).group_by(r.bucket_start)
        return sorted(session.execute(stmt).all())
    if dialect == "postgresql":
        hour = func.date_trunc("hour", r.bucket_start)
        parse = _aware
    else:
        # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff': the first 13 characters name the hour.
        hour = func.substr(r.bucket_start, 1, 13)
        parse = _sqlite_hour
    stmt = select(hour, *sums).where(*where).group_by(hour)
    return sorted((parse(key), *rest) for key, *rest in session.execute(stmt))


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _sqlite_hour(key: str) -> datetime:
    return datetime.fromisoformat(f"{key}:00+00:00")
