"""Validation of ingested products and of a transaction's ``items``, as strict as for transactions.

Nothing here touches the database. Errors name the field, and for an item its place in the list
(``items[2].quantity``), so a sender can fix the line that is wrong.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from services.ingest.validation import (
    MAX_AMOUNT_CENTS, ValidationError, _string, parse_time, validate_transaction,
)

SKU_RE = re.compile(r"^[A-Za-z0-9_.:@/+=-]{1,64}$")
_CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$", re.ASCII)
SKU_HINT = "may use letters, digits and _ . : @ / + = - only (1-64 characters)"
MAX_STOCK = 10**9
MAX_QUANTITY = 10**6
MAX_ITEMS_PER_TRANSACTION = 200
PRODUCT_FIELDS = {"sku", "name", "active", "price_cents", "currency", "category", "stock",
                  "stock_delta", "low_stock_threshold", "updated_at"}
ITEM_FIELDS = {"sku", "quantity", "amount_cents"}


def _integer(item: dict, field: str, low: int, high: int, name: str | None = None) -> int | None:
    """An optional integer between ``low`` and ``high``; ``true`` and ``1.5`` are refused."""
    value = item.get(field)
    name = name or field
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an integer", field=name)
    if not low <= value <= high:
        raise ValidationError(f"{name} must be between {low} and {high}", field=name)
    return value


def validate_sku(value: Any, field: str = "sku") -> str:
    """A sku as sent: 1-64 of letters, digits and ``_ . : @ / + = -``."""
    if value is None:
        raise ValidationError(f"{field} is required", field=field)
    if not isinstance(value, str) or not SKU_RE.match(value):
        raise ValidationError(f"{field} {SKU_HINT}", field=field)
    return value


def validate_product(item: Any, now: datetime) -> dict[str, Any]:
    """Check one product; fields not sent are None (the stored value stays)."""
    if not isinstance(item, dict):
        raise ValidationError("a product must be a JSON object")
    unknown = sorted(set(item) - PRODUCT_FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    sku = validate_sku(item.get("sku"))
    active = item.get("active")
    if active is not None and not isinstance(active, bool):
        raise ValidationError("active must be true or false", field="active")
    currency = _string(item, "currency", required=False, max_len=3)
    if currency is not None:
        if not _CURRENCY_RE.match(currency):
            raise ValidationError("currency must be a 3-letter ISO 4217 code", field="currency")
        currency = currency.upper()
    if item.get("stock") is not None and item.get("stock_delta") is not None:
        raise ValidationError("send either stock or stock_delta, not both", field="stock_delta")
    updated = item.get("updated_at")
    return {
        "sku": sku,
        "name": _string(item, "name", required=False, max_len=200),
        "active": active,
        "price_cents": _integer(item, "price_cents", 0, MAX_AMOUNT_CENTS),
        "currency": currency,
        "category": _string(item, "category", required=False, max_len=64),
        "stock": _integer(item, "stock", 0, MAX_STOCK),
        "stock_delta": _integer(item, "stock_delta", -MAX_STOCK, MAX_STOCK),
        "low_stock_threshold": _integer(item, "low_stock_threshold", 0, MAX_STOCK),
        "updated_at": None if updated is None else parse_time(updated, "updated_at", now),
    }


def validate_items(items: Any, amount_cents: int) -> list[dict[str, Any]] | None:
    """A transaction's lines; None when not sent (the stored lines stay). Their amounts must add
    up to at most the transaction's amount."""
    if items is None:
        return None
    if not isinstance(items, list):
        raise ValidationError("items must be a list", field="items")
    if len(items) > MAX_ITEMS_PER_TRANSACTION:
        raise ValidationError(f"items holds at most {MAX_ITEMS_PER_TRANSACTION} lines", field="items")
    clean, total = [], 0
    match = SKU_RE.match
    for i, line in enumerate(items):
        # The usual line (a dict of a str sku and two plain ints in range, nothing else) is checked
        # here without building a field name per check; anything else takes ``_check_line``,
        # which accepts what this accepts and names what is wrong.
        if type(line) is dict and len(line) == 3:
            sku, quantity, amount = line.get("sku"), line.get("quantity"), line.get("amount_cents")
            if (type(sku) is str and type(quantity) is int and type(amount) is int
                    and 1 <= quantity <= MAX_QUANTITY and 0 <= amount <= MAX_AMOUNT_CENTS and match(sku)):
                clean_line = {"sku": sku, "quantity": quantity, "amount_cents": amount}
            else:
                clean_line = _check_line(i, line)
        else:
            clean_line = _check_line(i, line)
        total += clean_line["amount_cents"]
        if total > amount_cents:
            where = f"items[{i}]"
            raise ValidationError(f"{where}.amount_cents: the items add up to more than the "
                                  f"transaction's amount_cents ({amount_cents})", field=f"{where}.amount_cents")
        clean.append(clean_line)
    return clean


def _check_line(i: int, line: Any) -> dict[str, Any]:
    """Line ``i`` checked field by field: the first error names the line and the field."""
    where = f"items[{i}]"
    if not isinstance(line, dict):
        raise ValidationError(f"{where} must be a JSON object", field=where)
    unknown = sorted(set(line) - ITEM_FIELDS)
    if unknown:
        raise ValidationError(f"{where}: unknown field {unknown[0]!r}", field=f"{where}.{unknown[0]}")
    sku = validate_sku(line.get("sku"), f"{where}.sku")
    for name in ("quantity", "amount_cents"):
        if line.get(name) is None:
            raise ValidationError(f"{where}.{name} is required", field=f"{where}.{name}")
    quantity = _integer(line, "quantity", 1, MAX_QUANTITY, f"{where}.quantity")
    amount = _integer(line, "amount_cents", 0, MAX_AMOUNT_CENTS, f"{where}.amount_cents")
    return {"sku": sku, "quantity": quantity, "amount_cents": amount}


def validate_transaction_with_items(item: Any, now: datetime) -> dict[str, Any]:
    """A transaction as ``services.ingest.validation`` checks it, plus its optional ``items``."""
    row = validate_transaction(item, now)
    row["items"] = validate_items(item.get("items"), row["amount_cents"])
    return row
