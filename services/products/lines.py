"""The lines of one transaction as its order page shows them: sku, product name when the catalogue
knows the sku, quantity and amount (in the transaction's currency), in the order they were sent."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.products.models import Product, TransactionItem


def order_items(session: Session, transaction_id: str) -> list[dict[str, Any]]:
    """Every stored line of ``transaction_id`` (empty when it sent none); ``name`` is None and
    ``known`` false for a sku the catalogue does not hold."""
    rows = session.execute(
        select(TransactionItem.line, TransactionItem.sku, TransactionItem.quantity, TransactionItem.amount_cents,
               Product.name)
        .join(Product, Product.sku == TransactionItem.sku, isouter=True)
        .where(TransactionItem.transaction_id == transaction_id).order_by(TransactionItem.line))
    return [{"line": r.line, "sku": r.sku, "name": r.name, "known": r.name is not None, "quantity": r.quantity,
             "amount_cents": int(r.amount_cents)} for r in rows]
