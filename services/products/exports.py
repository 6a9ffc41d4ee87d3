"""Export data types of the catalogue: ``orders`` (transactions with their lines) and ``products``
(each product with its stock and its sales in the range, per currency).

Both stream: orders on a server-side cursor over transactions joined to their lines, products
over the catalogue joined to the range's sales rollups, so memory stays flat.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from services.export.formats import Column
from services.ingest.models import Transaction
from services.products.bestsellers import sales_range
from services.products.models import Product, ProductSalesRollup, TransactionItem
from services.products.stock import global_threshold

YIELD_PER = 2000


def _stream(session: Session, stmt) -> Iterator[tuple]:
    conn = session.connection().execution_options(stream_results=True, max_row_buffer=YIELD_PER)
    yield from conn.execute(stmt)


def orders(session: Session, start: datetime, end: datetime, _opts: dict) -> Iterator[tuple]:
    """One row per line of each transaction created in [start, end) (one row without lines when it has none)."""
    t, i = Transaction, TransactionItem
    stmt = (select(t.id, t.created_at, t.updated_at, t.status, t.amount_cents, t.amount_cents, t.currency,
                   t.customer_id, t.channel, i.line, i.sku, i.quantity, i.amount_cents, i.amount_cents)
            .join(i, i.transaction_id == t.id, isouter=True)
            .where(t.created_at >= start, t.created_at < end).order_by(t.created_at, t.id, i.line))
    return _stream(session, stmt)


def products(session: Session, start: datetime, end: datetime, _opts: dict) -> Iterator[tuple]:
    """Each product with its stock and, per currency sold in the range, completed units and revenue
    (whole UTC days, as the Products page counts them); a product without sales has one row of zeros."""
    rng = sales_range(start, end, max(end, start))
    r = ProductSalesRollup
    sales = (select(r.sku, r.currency, func.sum(r.completed).label("units"),
                    func.sum(r.revenue_cents).label("revenue"))
             .where(r.bucket_start >= rng.start, r.bucket_start < rng.end).group_by(r.sku, r.currency)
             .subquery())
    threshold = global_threshold()
    p = Product
    stmt = (select(p.sku, p.name, p.category, p.active, p.price_cents, p.price_cents, p.currency, p.stock,
                   func.coalesce(p.low_stock_threshold, threshold), p.updated_at, sales.c.currency,
                   func.coalesce(sales.c.units, 0), func.coalesce(sales.c.revenue, 0),
                   func.coalesce(sales.c.revenue, 0))
            .join(sales, and_(sales.c.sku == p.sku), isouter=True)
            .order_by(p.sku, sales.c.currency))
    for row in _stream(session, stmt):
        yield tuple(row[:8]) + (row[8], row[9], row[10], int(row[11]), int(row[12]), int(row[13]))


def _cols(*spec: str | tuple) -> list[Column]:
    return [Column(s) if isinstance(s, str) else Column(*s) for s in spec]


ORDER_COLUMNS = _cols("id", ("created_at", "time"), ("updated_at", "time"), "status", ("amount_cents", "int"),
                      ("amount", "money", "currency"), "currency", "customer_id", "channel", ("line", "int"),
                      "sku", ("quantity", "int"), ("line_amount_cents", "int"),
                      ("line_amount", "money", "currency"))
PRODUCT_COLUMNS = _cols("sku", "name", "category", ("active", "bool"), ("price_cents", "int"),
                        ("price", "money", "price_currency"), "price_currency", ("stock", "int"),
                        ("low_stock_threshold", "int"), ("updated_at", "time"), "currency", ("units", "int"),
                        ("revenue_cents", "int"), ("revenue", "money", "currency"))
SOURCES = {"orders": (ORDER_COLUMNS, orders), "products": (PRODUCT_COLUMNS, products)}
