"""In-process hook for products, beside ``services.ingest.store.record_transaction`` and the others."""
from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from database import utcnow
from services.ingest import store
from services.products.validation import validate_product


def record_product(sku: str, name: str | None = None, *, active: bool | None = None,
                   price_cents: int | None = None, currency: str | None = None, category: str | None = None,
                   stock: int | None = None, stock_delta: int | None = None,
                   low_stock_threshold: int | None = None, updated_at: datetime | str | None = None,
                   app: Flask | None = None, session: Session | None = None) -> None:
    """Upsert one product by ``sku`` (same rules as ``products`` items of the ingest API): fields
    left None keep the stored value; ``stock_delta`` moves the stock. Raises ``ValidationError``."""
    now = utcnow()
    fields = {"sku": sku, "name": name, "active": active, "price_cents": price_cents, "currency": currency,
              "category": category, "stock": stock, "stock_delta": stock_delta,
              "low_stock_threshold": low_stock_threshold, "updated_at": updated_at}
    row = validate_product({k: v for k, v in fields.items() if v is not None}, now)
    store.store_one("products", row, now, app, session)
