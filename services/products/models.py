"""Tables of the catalogue: products as ingested, the lines of each transaction, daily product
sales rollups kept by ingest, and low-stock episodes.

Sales rollups mirror the revenue rollups (``services.ingest.rollups``): per UTC day, sku and
currency, the units of transactions in each status, and the line amounts of completed ones; a
status change moves the units between the status columns and the amount in or out of revenue,
exactly as it moves the transaction in the revenue rollups.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, BigIntPK, UTCDateTime, utcnow


class Product(Base):
    """One product, upserted by ``sku``; ``stock`` null means the sender never said."""

    __tablename__ = "products"
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    price_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    category: Mapped[str | None] = mapped_column(String(64))
    stock: Mapped[int | None] = mapped_column(BigInteger)
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (Index("ix_products_category", "category"),)


class TransactionItem(Base):
    """One line of a transaction: ``quantity`` of ``sku`` for ``amount_cents`` (transaction currency)."""

    __tablename__ = "transaction_items"
    transaction_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_transaction_items_sku", "sku"),)


class ProductSalesRollup(Base):
    """Units per status and completed line revenue per UTC day, currency and sku, kept exact on ingest."""

    __tablename__ = "product_sales_rollups"
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    completed: Mapped[int] = mapped_column(BigInteger, default=0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    failed: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # A range of one currency is read from the index alone.
    __table_args__ = (Index("ix_product_sales_currency_bucket", "currency", "bucket_start", "sku",
                            "completed", "revenue_cents"),)


_OPEN = "closed_at IS NULL"


class LowStockEpisode(Base):
    """One shortage of one product: opened when it went low, closed when it was restocked."""

    __tablename__ = "low_stock_episodes"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stock_at_open: Mapped[int] = mapped_column(BigInteger)
    # At most one open episode per product: one shortage, one alert.
    __table_args__ = (Index("uq_low_stock_episodes_open", "sku", unique=True,
                            sqlite_where=text(_OPEN), postgresql_where=text(_OPEN)),
                      Index("ix_low_stock_episodes_opened", "opened_at"))
