"""The product table of the Products page: search, filter, sort and page the catalogue, each row
with its stock state and its units and revenue over a range (from the sales rollups), and the
catalogue's own figures (active products, products low on stock)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from services.products.bestsellers import (
    ProductQueryError, SalesRange, currency_totals, pick_currency, sales_subquery,
)
from services.products.models import LowStockEpisode, Product
from services.products.stock import global_threshold, low_condition

STATES = ("all", "active", "inactive", "low")
SORTS = ("name", "sku", "category", "stock", "price", "units", "revenue", "state")
MAX_LIMIT = 500


def catalogue_counts(session: Session, threshold: int | None = None) -> dict[str, int]:
    """``active_products`` and ``low_stock_products`` (active products low on stock) now."""
    threshold = global_threshold() if threshold is None else threshold
    active, low = session.execute(select(
        func.coalesce(func.sum(case((Product.active.is_(True), 1), else_=0)), 0),
        func.coalesce(func.sum(case((low_condition(threshold), 1), else_=0)), 0))).one()
    return {"active_products": int(active), "low_stock_products": int(low)}


def _state(row: Any, threshold: int) -> str:
    if not row.active:
        return "inactive"
    if row.stock is None:
        return "untracked"
    own = row.low_stock_threshold
    if row.stock <= (threshold if own is None else own):
        return "out_of_stock" if row.stock <= 0 else "low"
    return "in_stock"


def check_list_params(state: str, sort: str, order: str) -> None:
    """Refuse an unknown ``state``, ``sort`` or ``order`` (ProductQueryError naming it)."""
    if state not in STATES:
        raise ProductQueryError(f"state must be one of {', '.join(STATES)}", "state")
    if sort not in SORTS:
        raise ProductQueryError(f"sort must be one of {', '.join(SORTS)}", "sort")
    if order not in ("asc", "desc"):
        raise ProductQueryError("order must be asc or desc", "order")


def list_products(session: Session, rng: SalesRange, *, currency: str | None = None, q: str | None = None,
                  category: str | None = None, state: str = "all", sort: str = "name", order: str = "asc",
                  limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """One page of products matching the filters, sorted; every row has its range figures."""
    check_list_params(state, sort, order)
    threshold = global_threshold()
    totals = currency_totals(session, rng)
    currency = pick_currency(totals, currency)
    sales = sales_subquery(rng, currency)
    units = func.coalesce(sales.c.units, 0)
    revenue = func.coalesce(sales.c.revenue_cents, 0)
    episode = LowStockEpisode
    filters = []
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        filters.append(or_(func.lower(Product.name).like(pattern, escape="\\"),
                           func.lower(Product.sku).like(pattern, escape="\\")))
    if category:
        filters.append(Product.category == category)
    if state == "active":
        filters.append(Product.active.is_(True))
    elif state == "inactive":
        filters.append(Product.active.is_(False))
    elif state == "low":
        filters.append(low_condition(threshold))
    low_rank = case((Product.active.is_(False), 3), (Product.stock.is_(None), 2),
                    (low_condition(threshold), 0), else_=1)
    keys = {"name": func.lower(Product.name), "sku": Product.sku, "category": func.coalesce(Product.category, ""),
            "stock": Product.stock, "price": Product.price_cents, "units": units, "revenue": revenue,
            "state": low_rank}
    key = keys[sort]
    ordering = [key.desc() if order == "desc" else key.asc()]
    if sort in ("stock", "price"):  # unknown values last whichever way
        ordering.insert(0, keys[sort].is_(None))
    total = session.scalar(select(func.count()).select_from(Product).where(*filters))
    stmt = (select(Product.sku, Product.name, Product.active, Product.price_cents, Product.currency,
                   Product.category, Product.stock, Product.low_stock_threshold, Product.updated_at,
                   units.label("units"), revenue.label("revenue_cents"), episode.opened_at)
            .join(sales, sales.c.sku == Product.sku, isouter=True)
            .join(episode, and_(episode.sku == Product.sku, episode.closed_at.is_(None)), isouter=True)
            .where(*filters).order_by(*ordering, Product.sku).limit(limit).offset(offset))
    rows = [{"sku": r.sku, "name": r.name, "active": r.active, "price_cents": r.price_cents,
             "price_currency": r.currency, "category": r.category, "stock": r.stock,
             "low_stock_threshold": r.low_stock_threshold,
             "threshold": threshold if r.low_stock_threshold is None else r.low_stock_threshold,
             "state": _state(r, threshold), "low_since": r.opened_at.isoformat() if r.opened_at else None,
             "units": int(r.units), "revenue_cents": int(r.revenue_cents),
             "updated_at": r.updated_at.isoformat()} for r in session.execute(stmt)]
    categories = [c for c in session.scalars(select(Product.category).where(Product.category.is_not(None))
                                              .distinct().order_by(Product.category))]
    return {"start": rng.start.isoformat(), "end": rng.end.isoformat(), "currency": currency,
            "currencies": totals, "other_currencies": [t["currency"] for t in totals if t["currency"] != currency],
            "total": int(total or 0), "limit": limit, "offset": offset, "products": rows,
            "categories": categories, "low_stock_threshold": threshold,
            **catalogue_counts(session, threshold)}
