"""Best sellers: units and revenue per product and per category over a range, per currency,
read from the daily product sales rollups only (the cost follows the range, not the lines).

Figures count completed transactions only, like revenue: a completed order refunded leaves
both. The range is widened to whole UTC days (the rollup edges) and never counted past now
(rounded up to the day); the answer's ``start``/``end`` say what was counted. Money never adds
up across currencies: one currency per answer, the others listed with their own totals.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.infra import InputError
from services.products.models import Product, ProductSalesRollup
from services.products.sales import BUCKET_SECONDS, bucket_start

DEFAULT_DAYS = 30
BY = ("revenue", "units")
UNCATEGORISED = None


class ProductQueryError(InputError):
    """A bad parameter of a product query; ``field`` names it (answered 400 by the API)."""

    def __init__(self, message: str, field: str):
        super().__init__(message, field)


@dataclass(frozen=True)
class SalesRange:
    """The counted range: whole days (UTC), ``start`` <= bucket < ``end``."""

    start: datetime
    end: datetime


def sales_range(start: datetime | None, end: datetime | None, now: datetime) -> SalesRange:
    """The asked range (default: the last 30 days) widened to whole UTC days and capped at now."""
    end = min(end or now, now)
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if end <= start:
        raise ProductQueryError("end must be after start (and start before now)", "end")
    edge = bucket_start(end)
    end_edge = edge if edge == end else edge + timedelta(seconds=BUCKET_SECONDS)
    return SalesRange(bucket_start(start), end_edge)


def _in_range(rng: SalesRange):
    r = ProductSalesRollup
    return (r.bucket_start >= rng.start, r.bucket_start < rng.end)


def currency_totals(session: Session, rng: SalesRange) -> list[dict[str, Any]]:
    """Every currency sold in the range with its revenue and units, most revenue first."""
    r = ProductSalesRollup
    rows = session.execute(select(r.currency, func.sum(r.revenue_cents), func.sum(r.completed))
                           .where(*_in_range(rng)).group_by(r.currency))
    totals = [{"currency": c, "revenue_cents": int(rev or 0), "units": int(units or 0)} for c, rev, units in rows]
    totals = [t for t in totals if t["revenue_cents"] or t["units"]]
    return sorted(totals, key=lambda t: (-t["revenue_cents"], -t["units"], t["currency"]))


def pick_currency(totals: list[dict[str, Any]], asked: str | None) -> str | None:
    """``asked``, else the currency with the most revenue in the range (None: nothing sold)."""
    if asked:
        return asked
    return totals[0]["currency"] if totals else None


def sales_subquery(rng: SalesRange, currency: str | None):
    """Units (completed) and revenue per sku in ``currency`` over ``rng``, as a subquery."""
    r = ProductSalesRollup
    return (select(r.sku.label("sku"), func.sum(r.completed).label("units"),
                   func.sum(r.revenue_cents).label("revenue_cents"))
            .where(*_in_range(rng), r.currency == (currency or ""))
            .group_by(r.sku).subquery("sales"))


def check_by(by: str) -> None:
    """Refuse an unknown ``by`` (ProductQueryError naming it)."""
    if by not in BY:
        raise ProductQueryError(f"by must be one of {', '.join(BY)}", "by")


def top(session: Session, rng: SalesRange, currency: str | None, by: str = "revenue",
        limit: int = 10) -> dict[str, Any]:
    """Top products and categories by ``by`` in one currency over ``rng``."""
    check_by(by)
    totals = currency_totals(session, rng)
    currency = pick_currency(totals, currency)
    sales = sales_subquery(rng, currency)
    order = (sales.c.revenue_cents.desc(), sales.c.units.desc()) if by == "revenue" else (
        sales.c.units.desc(), sales.c.revenue_cents.desc())
    rows = session.execute(
        select(sales.c.sku, sales.c.units, sales.c.revenue_cents, Product.name, Product.category)
        .join(Product, Product.sku == sales.c.sku, isouter=True)
        .where((sales.c.units > 0) | (sales.c.revenue_cents > 0))
        .order_by(*order, sales.c.sku).limit(limit))
    products = [{"sku": sku, "name": name, "category": category, "known": name is not None,
                 "units": int(units), "revenue_cents": int(revenue)}
                for sku, units, revenue, name, category in rows]
    category = func.coalesce(Product.category, "")
    cat_rows = session.execute(
        select(category, func.sum(sales.c.units), func.sum(sales.c.revenue_cents))
        .select_from(sales).join(Product, Product.sku == sales.c.sku, isouter=True).group_by(category))
    categories = [{"category": c or None, "units": int(u or 0), "revenue_cents": int(v or 0)}
                  for c, u, v in cat_rows if u or v]
    key = (lambda c: (-c["revenue_cents"], -c["units"])) if by == "revenue" else (
        lambda c: (-c["units"], -c["revenue_cents"]))
    categories.sort(key=lambda c: (*key(c), c["category"] or ""))
    this = next((t for t in totals if t["currency"] == currency), None)
    return {"by": by, "start": rng.start.isoformat(), "end": rng.end.isoformat(), "currency": currency,
            "revenue_cents": this["revenue_cents"] if this else 0, "units": this["units"] if this else 0,
            "currencies": totals, "other_currencies": [t["currency"] for t in totals if t["currency"] != currency],
            "products": products, "categories": categories[:limit]}
