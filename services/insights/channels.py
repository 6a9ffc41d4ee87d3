"""Sales channels side by side (storefront or marketplace: "web", "app", "amazon", ...).

Read from the 15-minute revenue rollups, which carry the channel ('' when a transaction named
none), so the cost grows with the range and the number of channels, never with the number of
transactions. One currency at a time: by default the one with the most revenue in the range;
the others are listed so a client can switch.

Per channel: ``revenue_cents`` (completed revenue), ``orders`` (completed transactions),
``transactions`` (every status), ``success_rate`` = completed / (completed + failed) and
``average_order_cents`` = revenue / orders.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from services.ingest import RevenueRollup as R
from services.insights.buckets import Buckets, edges_cte, ratio

NO_CHANNEL_LABEL = "(none)"
COUNTS = ("completed", "pending", "failed", "refunded")


def currencies_in_range(session: Session, buckets: Buckets) -> list[dict]:
    """Currencies with any rollup in range, the largest revenue first."""
    rows = session.execute(
        select(R.currency, func.sum(R.revenue_cents), func.sum(R.completed + R.pending + R.failed + R.refunded))
        .where(R.bucket_start >= buckets.start, R.bucket_start < buckets.end)
        .group_by(R.currency)
    ).all()
    out = [{"currency": c, "revenue_cents": int(rev or 0), "transactions": int(n or 0)} for c, rev, n in rows]
    out.sort(key=lambda item: (-item["revenue_cents"], -item["transactions"], item["currency"]))
    return out


def _summarise(channel: str, totals: dict[str, int], grand_revenue: int) -> dict:
    completed, failed = totals["completed"], totals["failed"]
    revenue = totals["revenue_cents"]
    return {
        "channel": channel,
        "label": channel or NO_CHANNEL_LABEL,
        "revenue_cents": revenue,
        "orders": completed,
        "transactions": sum(totals[k] for k in COUNTS),
        **{k: totals[k] for k in COUNTS},
        "success_rate": ratio(completed, completed + failed),
        "average_order_cents": round(revenue / completed) if completed else None,
        "revenue_share": ratio(revenue, grand_revenue),
    }


def channel_insights(session: Session, buckets: Buckets, currency: str | None = None) -> dict:
    """Revenue, orders, success rate and average order per channel, in total and per bucket."""
    currencies = currencies_in_range(session, buckets)
    if currency is None:
        currency = currencies[0]["currency"] if currencies else None
    rows = []
    if currency is not None and len(buckets):
        edges = edges_cte(buckets)
        # Summed per bucket and channel by the database: a 90-day range is ~8,600 rollup rows
        # per channel, but only 90 daily rows per channel come back.
        rows = session.execute(
            select(edges.c.i, R.channel, func.sum(R.revenue_cents), func.sum(R.completed),
                   func.sum(R.pending), func.sum(R.failed), func.sum(R.refunded))
            .join_from(edges, R, and_(R.bucket_start >= edges.c.lo, R.bucket_start < edges.c.hi))
            .where(R.currency == currency)
            .group_by(edges.c.i, R.channel)
        ).all()
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("revenue_cents", *COUNTS), 0))
    per_bucket: list[dict[str, dict[str, int]]] = [defaultdict(lambda: {"revenue_cents": 0, "orders": 0})
                                                   for _ in range(len(buckets))]
    for index, channel, revenue, completed, pending, failed, refunded in rows:
        channel = channel or ""
        t = totals[channel]
        t["revenue_cents"] += int(revenue or 0)
        t["completed"] += int(completed or 0)
        t["pending"] += int(pending or 0)
        t["failed"] += int(failed or 0)
        t["refunded"] += int(refunded or 0)
        per_bucket[index][channel]["revenue_cents"] += int(revenue or 0)
        per_bucket[index][channel]["orders"] += int(completed or 0)
    grand = sum(t["revenue_cents"] for t in totals.values())
    channels = [_summarise(ch, t, grand) for ch, t in totals.items()]
    channels.sort(key=lambda c: (-c["revenue_cents"], -c["transactions"], c["channel"]))
    names = [c["channel"] for c in channels]
    series = [{
        "start": buckets.label(i),
        "revenue_cents": {ch: per_bucket[i][ch]["revenue_cents"] if ch in per_bucket[i] else 0 for ch in names},
        "orders": {ch: per_bucket[i][ch]["orders"] if ch in per_bucket[i] else 0 for ch in names},
    } for i in range(len(buckets))]
    return {
        "currency": currency,
        "currencies": currencies,
        "channels": channels,
        "buckets": series,
        "total_revenue_cents": grand,
    }
