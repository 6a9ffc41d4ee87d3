"""The panel's own lists and figures as widget data: revenue and customer figures, segments, top
customers, top products, recent transactions, firing alerts, services, the activity heatmap.

Each reads through the same service the panel's pages use, so a widget shows the very figure
its page shows for the same range.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from zoneinfo import ZoneInfo

from services.alerts.models import Alert
from services.checks import service as checks_service
from services.dashboards.ranges import days_of, resolve

Memo = Callable[[str, Callable[[], Any]], Any]
from services.insights import customer_insights, period_buckets
from services.insights.buckets import Buckets
from services.insights import activity, revenue
from services.products import bestsellers


def _period(start: datetime, end: datetime) -> str:
    return "hourly" if (end - start).total_seconds() <= 2 * 86400 else "daily"


def revenue_summary(session: Session, q: dict, now: datetime, memo: Memo) -> dict[str, Any]:
    """The Revenue page's summary over the range (hourly buckets, the Overview's query)."""
    start, end = resolve(q["range"], q["tz"], now)
    plan = revenue.plan("hourly", start, end, q["tz"], now)
    body = revenue.revenue(session, plan, q["currency"])
    summary = body["summary"]
    return {"value": summary.get(q["field"]) if q["field"] else None, "currency": body["currency"],
            "summary": summary, "start": plan.start.isoformat(), "end": plan.end.isoformat()}


def _customers(session: Session, q: dict, now: datetime, memo: Memo) -> tuple[dict, Any]:
    start, end = resolve(q["range"], q["tz"], now)
    # The customers API's range (whole buckets, counted to 15-minute edges) as one bucket: the
    # range's figures are the same, without a distinct count per hour nobody shows.
    hourly = period_buckets(start, end, _period(start, end), ZoneInfo(q["tz"]))
    buckets = Buckets((hourly.edges[0], hourly.edges[-1]), hourly.tz, hourly.lo, hourly.hi)
    # Segments, top customers and the summary of one range read the same figures: once a tick.
    data = memo(f"customers:{q['range']}:{q['tz']}", lambda: customer_insights(session, buckets))
    return data, buckets


def customer_summary(session: Session, q: dict, now: datetime, memo: Memo) -> dict[str, Any]:
    """The customers API's summary over the range."""
    data, buckets = _customers(session, q, now, memo)
    return {"value": data["summary"].get(q["field"]), "summary": data["summary"],
            "start": buckets.start.isoformat(), "end": buckets.end.isoformat()}


def customer_segments(session: Session, q: dict, now: datetime, memo: Memo) -> dict[str, Any]:
    """New and returning customers of the range (a pie's slices)."""
    data, _ = _customers(session, q, now, memo)
    s = data["summary"]
    return {"columns": ["segment", "customers"],
            "rows": [["new", s["new_customers"]], ["returning", s["returning_customers"]]]}


def top_customers(session: Session, q: dict, now: datetime, memo: Memo) -> dict[str, Any]:
    """The customers of the range who paid the most, in one currency (the first by revenue
    unless one is named)."""
    data, _ = _customers(session, q, now, memo)
    values = data["value"]
    chosen = next((v for v in values if v["currency"] == q["currency"]), None) if q["currency"] \
        else (values[0] if values else None)
    rows = [[c["customer_id"], c["revenue_cents"], c["orders"]]
            for c in (chosen["top_customers"] if chosen else [])][: q["limit"]]
    return {"columns": ["customer", "revenue_cents", "orders"], "rows": rows,
            "currency": chosen["currency"] if chosen else q["currency"]}


def top_products(session: Session, q: dict, now: datetime, memo: Memo) -> dict[str, Any]:
    """The best sellers of the Products page (``/admin/api/products/top``) over the range widened to
    whole UTC days, in one currency (the first by revenue unless one is named), ranked by ``by``.
    The second column is the ranked figure (a bar's or pie's value); ``name`` is the sku when the
    catalogue does not know it."""
    start, end = resolve(q["range"], q["tz"], now)
    body = bestsellers.top(session, bestsellers.sales_range(start, end, now), q["currency"], q["by"], q["limit"])
    figures = ("revenue_cents", "units") if q["by"] == "revenue" else ("units", "revenue_cents")
    return {"columns": ["product", *figures, "sku"],
            "rows": [[p["name"] or p["sku"], p[figures[0]], p[figures[1]], p["sku"]] for p in body["products"]],
            "currency": body["currency"], "by": q["by"], "start": body["start"], "end": body["end"]}


def recent_transactions(session: Session, q: dict, now: datetime, memo: Memo) -> dict[str, Any]:
    """The newest transactions of the range."""
    start, end = resolve(q["range"], q["tz"], now)
    minutes = max(1, int((end - start).total_seconds() // 60))
    body = activity.transactions(session, end, minutes, q["limit"])
    return {"columns": ["id", "amount_cents", "currency", "status", "created_at"],
            "rows": [[t["id"], t["amount_cents"], t["currency"], t["status"], t["created_at"]]
                     for t in body["transactions"]]}


def firing_alerts(session: Session, q: dict, now: datetime, memo: Memo) -> dict[str, Any]:
    """Alerts firing now, newest first."""
    rows = session.scalars(select(Alert).where(Alert.status == "firing")
                           .order_by(Alert.fired_at.desc(), Alert.id.desc()).limit(q["limit"]))
    return {"columns": ["title", "severity", "fired_at"],
            "rows": [[a.title, a.severity, a.fired_at.isoformat() if a.fired_at else None] for a in rows]}


def services(session: Session, q: dict, now: datetime, memo: Memo) -> dict[str, Any]:
    """Every service monitor with its status and 24 h uptime."""
    monitors = checks_service.list_with_figures(session, now)[: q["limit"]]
    return {"columns": ["service", "status", "uptime_24h"],
            "rows": [[m["name"], m["status"], m.get("uptime_24h")] for m in monitors]}


def activity_heatmap(session: Session, q: dict, now: datetime, memo: Memo) -> dict[str, Any]:
    """Actions by local weekday (Monday first) and hour, as the Activity page's heatmap."""
    tz = ZoneInfo(q["tz"])
    body = activity.user_activity(session, now, 30, 1, tz, min(90, days_of(q["range"])))
    return {"grid": body["heatmap"], "since": body["heatmap_since"], "days": body["heatmap_days"]}


PANELS: dict[str, Callable[[Session, dict, datetime, Memo], dict[str, Any]]] = {
    "revenue_summary": revenue_summary, "customer_summary": customer_summary,
    "customer_segments": customer_segments, "top_customers": top_customers,
    "recent_transactions": recent_transactions, "firing_alerts": firing_alerts,
    "services": services, "activity_heatmap": activity_heatmap, "top_products": top_products,
}
