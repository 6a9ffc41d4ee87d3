"""Customers: new vs returning, repeat purchases, value per customer, top customers, conversion.

Definitions (the Revenue page shows them too):

- A *customer* is a ``customer_id`` of a transaction; transactions without one are left out.
- A customer is *active* in a bucket when they have at least one transaction (any status) in it.
- A customer is *new* in the bucket holding their first transaction ever (any status, across all
  history, not only the asked range) and *returning* in every later bucket they are active in.
  Over the whole range: new when their first transaction ever lies inside the range.
- *Paying customers*: customers with at least one completed transaction in the range.
  *Repeat-purchase rate*: paying customers with two or more completed transactions / paying
  customers. *Orders per customer*: completed transactions / paying customers.
- *Customer value* (lifetime value over the asked range): completed revenue per paying customer,
  mean and median, per currency (a customer paying in two currencies counts in both, never summed).
- *Conversion rate*: distinct users with any activity in the range who also have a completed
  transaction in the range (``transactions.customer_id`` = ``user_activity.user_id``) / distinct
  users with any activity in the range. Buyers without recorded activity are reported apart.

Cost: every query is bounded by the range through the ``created_at`` and ``(customer_id,
created_at)`` indexes; "seen before the range?" is one index probe per customer, so history older
than the range is never scanned.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median

from sqlalchemy import and_, case, distinct, exists, func, select
from sqlalchemy.orm import Session, aliased

from database import Transaction, UserActivity
from services.insights_buckets import Buckets, edges_cte, ratio

TOP_LIMIT = 10


def _in_range(col, start: datetime, end: datetime):
    return and_(col >= start, col < end)


def _per_customer_currency(session: Session, start: datetime, end: datetime) -> list:
    """One range scan: per (customer, currency) the completed orders and revenue, the first
    transaction in range, and whether the customer was seen before the range (an index probe)."""
    done = case((Transaction.status == "completed", 1), else_=0)
    earlier = aliased(Transaction)
    seen_before = exists().where(earlier.customer_id == Transaction.customer_id, earlier.created_at < start)
    stmt = (
        select(
            Transaction.customer_id,
            Transaction.currency,
            func.sum(done).label("orders"),
            func.coalesce(func.sum(done * Transaction.amount_cents), 0).label("revenue"),
            # Only a new customer's first time is needed: returning ones skip the datetime parsing.
            case((seen_before, None), else_=func.min(Transaction.created_at)).label("first"),
            seen_before.label("seen_before"),
        )
        .where(_in_range(Transaction.created_at, start, end), Transaction.customer_id.is_not(None))
        .group_by(Transaction.customer_id, Transaction.currency)
    )
    return session.execute(stmt).all()


def _active_per_bucket(session: Session, buckets: Buckets) -> dict[int, int]:
    """Distinct active customers per bucket, counted by the database against the bucket edges."""
    edges = edges_cte(buckets)
    stmt = (
        select(edges.c.i, func.count(distinct(Transaction.customer_id)))
        .join_from(edges, Transaction, and_(Transaction.created_at >= edges.c.lo,
                                            Transaction.created_at < edges.c.hi))
        .where(Transaction.customer_id.is_not(None))
        .group_by(edges.c.i)
    )
    return {i: n for i, n in session.execute(stmt).all()}


def _conversion(session: Session, start: datetime, end: datetime, buyers: int) -> dict:
    active = (
        select(UserActivity.user_id.label("uid"))
        .where(_in_range(UserActivity.created_at, start, end))
        .distinct()
        .subquery()
    )
    # An uncorrelated IN: the buyers are read once (a hashed set), not probed per active user.
    bought = select(Transaction.customer_id).where(Transaction.status == "completed",
                                                   _in_range(Transaction.created_at, start, end))
    users, converted = session.execute(
        select(func.count(), func.coalesce(func.sum(case((active.c.uid.in_(bought), 1), else_=0)), 0))
        .select_from(active)
    ).one()
    return {
        "active_users": users,
        "converted_users": int(converted),
        "rate": ratio(int(converted), users),
        "buyers_without_activity": buyers - int(converted),
        "definition": "distinct users with any activity in the range who also completed a transaction "
                      "in the range, divided by distinct users with any activity in the range",
    }


def _value_by_currency(per_currency: dict[str, dict[str, list[int]]]) -> list[dict]:
    out = []
    for currency, customers in per_currency.items():
        revenues = [rev for rev, _ in customers.values()]
        top = sorted(customers.items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP_LIMIT]
        out.append({
            "currency": currency,
            "paying_customers": len(revenues),
            "revenue_cents": sum(revenues),
            "mean_cents": round(sum(revenues) / len(revenues)),
            "median_cents": round(median(revenues)),
            "top_customers": [{"customer_id": cid, "revenue_cents": rev, "orders": orders}
                              for cid, (rev, orders) in top],
        })
    out.sort(key=lambda item: (-item["revenue_cents"], item["currency"]))
    return out


def customer_insights(session: Session, buckets: Buckets) -> dict:
    """Every customer figure over ``buckets`` (see the module docstring for the definitions)."""
    start, end = buckets.start, buckets.end
    orders_by_customer: dict[str, int] = defaultdict(int)
    per_currency: dict[str, dict[str, list[int]]] = defaultdict(dict)
    first_seen: dict[str, tuple[datetime, bool]] = {}
    for cid, currency, orders, revenue, first, seen_before in _per_customer_currency(session, start, end):
        orders = int(orders or 0)
        if orders:
            orders_by_customer[cid] += orders
            per_currency[currency][cid] = [int(revenue), orders]
        known = first_seen.get(cid)
        if known is None or (first is not None and first < known[0]):
            first_seen[cid] = (first, bool(seen_before))

    new_per_bucket = [0] * len(buckets)
    new_total = returning_total = 0
    for first, seen_before in first_seen.values():
        if seen_before:
            returning_total += 1
            continue
        new_total += 1
        index = buckets.index(first)
        if index is not None:
            new_per_bucket[index] += 1

    active = _active_per_bucket(session, buckets) if len(buckets) else {}
    series = []
    for i in range(len(buckets)):
        count = active.get(i, 0)
        series.append({"start": buckets.label(i), "customers": count, "new": new_per_bucket[i],
                       "returning": count - new_per_bucket[i]})

    paying = len(orders_by_customer)
    total_orders = sum(orders_by_customer.values())
    repeaters = sum(1 for n in orders_by_customer.values() if n >= 2)
    return {
        "buckets": series,
        "summary": {
            "customers": new_total + returning_total,
            "new_customers": new_total,
            "returning_customers": returning_total,
            "paying_customers": paying,
            "repeat_customers": repeaters,
            "repeat_purchase_rate": ratio(repeaters, paying),
            "orders": total_orders,
            "orders_per_customer": round(total_orders / paying, 4) if paying else None,
        },
        "value": _value_by_currency(per_currency),
        "conversion": _conversion(session, start, end, paying),
    }
