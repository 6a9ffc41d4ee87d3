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

Cost: the per-customer figures are one grouped read of the range's transactions (through the
``created_at`` index) and one distinct count per bucket; who is new comes from the
``customer_first_seen`` table (one indexed range read), so history older than the range is never
read, and nothing is probed per customer.
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from datetime import datetime
from statistics import median

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from services.ingest import CustomerFirstSeen, Transaction, UserActivity
from services.insights.buckets import Buckets, edges_cte, ratio

TOP_LIMIT = 10


def _in_range(col, start: datetime, end: datetime):
    return and_(col >= start, col < end)


def _per_customer_currency(session: Session, start: datetime, end: datetime) -> list:
    """One range scan: per (customer, currency) with a transaction in range, the completed orders
    and completed revenue (both 0 for a customer who only has other statuses)."""
    done = case((Transaction.status == "completed", 1), else_=0)
    stmt = (
        select(
            Transaction.customer_id,
            Transaction.currency,
            func.sum(done).label("orders"),
            func.coalesce(func.sum(done * Transaction.amount_cents), 0).label("revenue"),
        )
        .where(_in_range(Transaction.created_at, start, end), Transaction.customer_id.is_not(None))
        .group_by(Transaction.customer_id, Transaction.currency)
    )
    return session.execute(stmt).all()


def _new_per_bucket(session: Session, buckets: Buckets) -> dict[int, int]:
    """Customers whose first transaction ever lies in each bucket (inside the counted range)."""
    edges = edges_cte(buckets)
    seen = CustomerFirstSeen.first_seen_at
    stmt = (
        select(edges.c.i, func.count())
        .join_from(edges, CustomerFirstSeen, and_(seen >= edges.c.lo, seen < edges.c.hi))
        .group_by(edges.c.i)
    )
    return {i: n for i, n in session.execute(stmt).all()}


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


def _conversion(session: Session, start: datetime, end: datetime, buyers: set[str]) -> dict:
    """Conversion against ``buyers`` (customers with a completed transaction in the range, already
    known from the per-customer read), so the range's transactions are not read a second time."""
    active = session.scalars(select(UserActivity.user_id)
                             .where(_in_range(UserActivity.created_at, start, end)).distinct())
    users = converted = 0
    for uid in active:
        users += 1
        if uid in buyers:
            converted += 1
    return {
        "active_users": users,
        "converted_users": converted,
        "rate": ratio(converted, users),
        "buyers_without_activity": len(buyers) - converted,
        "definition": "distinct users with any activity in the range who also completed a transaction "
                      "in the range, divided by distinct users with any activity in the range",
    }


def _value_by_currency(per_currency: dict[str, dict[str, list[int]]]) -> list[dict]:
    out = []
    for currency, customers in per_currency.items():
        revenues = [rev for rev, _ in customers.values()]
        # nsmallest keeps TOP_LIMIT items: no sort of every paying customer for ten of them.
        top = heapq.nsmallest(TOP_LIMIT, customers.items(), key=lambda kv: (-kv[1][0], kv[0]))
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
    customers: set[str] = set()
    for cid, currency, orders, revenue in _per_customer_currency(session, start, end):
        customers.add(cid)
        orders = int(orders or 0)
        if orders:
            orders_by_customer[cid] += orders
            per_currency[currency][cid] = [int(revenue), orders]

    counted = len(buckets) > 0
    new = _new_per_bucket(session, buckets) if counted else {}
    active = _active_per_bucket(session, buckets) if counted else {}
    series = []
    for i in range(len(buckets)):
        count, fresh = active.get(i, 0), new.get(i, 0)
        series.append({"start": buckets.label(i), "customers": count, "new": fresh,
                       "returning": count - fresh})
    new_total = sum(new.values())
    returning_total = len(customers) - new_total

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
        "conversion": _conversion(session, start, end, set(orders_by_customer)),
    }
