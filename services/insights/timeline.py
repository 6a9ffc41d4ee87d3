"""One timeline: money, payments, errors, latency and alerts on the same 15-minute buckets.

Series, per 15-minute UTC bucket (every zone's offset is a multiple of 15 minutes, so the buckets
are also on the admin's local quarter hours):

- ``revenue_cents``: completed revenue of one currency, from the 15-minute revenue rollups;
- ``failed_payment_rate``: failed / (completed + failed + refunded), all currencies (counts have
  no currency), the same definition the ``failed_payment_rate`` alert rule uses; a fraction 0..1;
- ``requests``, ``error_rate`` (5xx / requests, a fraction) and ``p95_ms``, from the per-minute
  ``request_stats`` rows, whose latency histograms are merged before taking the percentile.

Alert windows run from ``started_at`` to ``resolved_at`` (or now while open). For each, "money at
risk" compares the completed revenue inside the window with the same window one week earlier,
per currency, read exactly from the transactions through the ``(status, created_at)`` index.
Service monitors' down windows (``monitor_windows``, from their state changes) are shaded and
priced the same way.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.alerts import Alert
from services.checks.history import down_windows
from services.ingest import CurrencyRollup as R, Transaction
from services.monitor import RequestStat
from services.monitor import histogram
from services.insights.buckets import Buckets, ratio

STEP = timedelta(minutes=15)
WEEK = timedelta(days=7)


def _revenue_and_payments(session: Session, buckets: Buckets):
    rows = session.execute(
        select(R.bucket_start, R.currency, R.revenue_cents, R.completed, R.failed, R.refunded)
        .where(R.bucket_start >= buckets.start, R.bucket_start < buckets.end)
    ).all()
    revenue: dict[str, list[int]] = defaultdict(lambda: [0] * len(buckets))
    settled = [0] * len(buckets)
    failed = [0] * len(buckets)
    for start, currency, cents, completed, n_failed, refunded in rows:
        i = buckets.index(start)
        if i is None:
            continue
        revenue[currency][i] += cents
        settled[i] += completed + n_failed + refunded
        failed[i] += n_failed
    return revenue, settled, failed


def _requests(session: Session, buckets: Buckets):
    rows = session.execute(
        select(RequestStat.minute, RequestStat.count, RequestStat.errors, RequestStat.max_ms,
               RequestStat.buckets)
        .where(RequestStat.minute >= buckets.start, RequestStat.minute < buckets.end)
    ).all()
    counts = [0] * len(buckets)
    errors = [0] * len(buckets)
    max_ms = [0.0] * len(buckets)
    hists: list[dict[int, int]] = [{} for _ in range(len(buckets))]
    for minute, count, n_errors, top, hist in rows:
        i = buckets.index(minute)
        if i is None:
            continue
        counts[i] += count
        errors[i] += n_errors
        max_ms[i] = max(max_ms[i], top or 0.0)
        histogram.merge(hists[i], hist or {})
    p95 = [histogram.percentile(h, 0.95, m or None) for h, m in zip(hists, max_ms)]
    return counts, errors, p95


def completed_revenue(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Completed revenue per currency of the transactions created in [start, end)."""
    rows = session.execute(
        select(Transaction.currency, func.sum(Transaction.amount_cents))
        .where(Transaction.status == "completed", Transaction.created_at >= start,
               Transaction.created_at < end)
        .group_by(Transaction.currency)
    ).all()
    return {currency: int(total or 0) for currency, total in rows}


def money_at_risk(session: Session, start: datetime, end: datetime) -> list[dict]:
    """Revenue in [start, end) against the same window a week earlier, per currency."""
    during = completed_revenue(session, start, end)
    before = completed_revenue(session, start - WEEK, end - WEEK)
    out = []
    for currency in sorted(set(during) | set(before)):
        now_cents, then_cents = during.get(currency, 0), before.get(currency, 0)
        out.append({"currency": currency, "during_cents": now_cents, "week_before_cents": then_cents,
                    "difference_cents": now_cents - then_cents,
                    "change": ratio(now_cents - then_cents, then_cents)})
    return out


def alert_windows(session: Session, start: datetime, end: datetime, now: datetime) -> list[dict]:
    """Alerts open at any moment of [start, end), oldest first, each with its money at risk."""
    alerts = session.scalars(
        select(Alert)
        # Only alerts that fired are incidents: a pending one (or one that cleared before its
        # for_seconds passed) never reached anyone.
        .where(Alert.fired_at.is_not(None), Alert.started_at < end,
               or_(Alert.resolved_at.is_(None), Alert.resolved_at >= start))
        .order_by(Alert.started_at, Alert.id)
    ).all()
    out = []
    for alert in alerts:
        ends = alert.resolved_at or now
        out.append({
            "id": alert.id, "title": alert.title, "rule": alert.rule_name, "metric": alert.metric,
            "severity": alert.severity, "status": alert.status,
            "started_at": alert.started_at.isoformat(), "ended_at": ends.isoformat(),
            "open": alert.resolved_at is None,
            "money_at_risk": money_at_risk(session, alert.started_at, ends),
        })
    return out


def monitor_windows(session: Session, start: datetime, end: datetime, now: datetime) -> list[dict]:
    """Monitor down windows overlapping [start, end), each with its money at risk like an alert's."""
    return [{"monitor_id": w["monitor_id"], "title": f"Monitor {w['monitor']} down",
             "started_at": w["started_at"].isoformat(), "ended_at": w["ended_at"].isoformat(),
             "open": w["open"], "money_at_risk": money_at_risk(session, w["started_at"], w["ended_at"])}
            for w in down_windows(session, start, end, now)]


def build_timeline(session: Session, buckets: Buckets, now: datetime, currency: str | None = None) -> dict:
    """The series on ``buckets`` (15-minute steps) and the alert windows that overlap them."""
    revenue, settled, failed = _revenue_and_payments(session, buckets)
    totals = sorted(((sum(v), c) for c, v in revenue.items()), key=lambda t: (-t[0], t[1]))
    currencies = [c for _, c in totals]
    if currency is None:
        currency = currencies[0] if currencies else None
    money = revenue.get(currency, [0] * len(buckets)) if currency else [0] * len(buckets)
    counts, errors, p95 = _requests(session, buckets)
    series = [{
        "start": buckets.label(i),
        "revenue_cents": money[i],
        "payments": settled[i],
        "failed_payment_rate": ratio(failed[i], settled[i]),
        "requests": counts[i],
        "error_rate": ratio(errors[i], counts[i]),
        "p95_ms": None if p95[i] is None else round(p95[i], 2),
    } for i in range(len(buckets))]
    return {
        "start": buckets.start.astimezone(buckets.tz).isoformat(),
        "end": buckets.end.astimezone(buckets.tz).isoformat(),
        "step_seconds": int(STEP.total_seconds()),
        "currency": currency,
        "currencies": currencies,
        "buckets": series,
        "alerts": alert_windows(session, buckets.start, buckets.end, now),
        "monitor_windows": monitor_windows(session, buckets.start, buckets.end, now),
    }
