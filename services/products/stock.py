"""Products upserted by sku within an ingest batch, and low-stock episodes moved with them.

Fields a send leaves out keep their stored value; ``stock_delta`` moves the stored stock (none
stored counts as 0). With ``updated_at`` given, a send older than the stored ``updated_at`` is
stale and ignored whole (its delta too: an absolute stock sent later already counted that
movement), as for transactions. A product is low when it is active, its stock is known and at or
below its own ``low_stock_threshold``, else ``LOW_STOCK_THRESHOLD``; an episode opens when it goes
low and closes when it is no longer low, so one shortage is one episode (a database index keeps
one open episode per sku).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, any_, bindparam, exists, func, insert, literal, null, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from services.infra import bulk
from services.ingest.rollups import begin_write
from services.products.models import LowStockEpisode, Product

DEFAULT_LOW_STOCK_THRESHOLD = 5
VALUE_FIELDS = ("name", "active", "price_cents", "currency", "category", "stock", "low_stock_threshold")
COLUMNS = VALUE_FIELDS + ("updated_at",)
_CHUNK = 900


def global_threshold() -> int:
    """``LOW_STOCK_THRESHOLD`` of the current app (5 outside one)."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return DEFAULT_LOW_STOCK_THRESHOLD
    return int(current_app.config.get("LOW_STOCK_THRESHOLD", DEFAULT_LOW_STOCK_THRESHOLD))


def is_low(product: dict[str, Any], default_threshold: int) -> bool:
    """Whether ``product`` is low on stock (its own threshold first, else the global one)."""
    if not product["active"] or product["stock"] is None:
        return False
    own = product["low_stock_threshold"]
    return product["stock"] <= (default_threshold if own is None else own)


def low_condition(threshold: int):
    """SQL: the product is active, its stock known and at or below its own threshold, else ``threshold``
    (``is_low`` in SQL)."""
    return and_(Product.active.is_(True), Product.stock.is_not(None),
                Product.stock <= func.coalesce(Product.low_stock_threshold, threshold))


def _apply(state: dict[str, Any] | None, item: dict[str, Any], now: datetime) -> dict[str, Any]:
    updated = item["updated_at"]
    if state is not None and updated is not None and updated < state["updated_at"]:
        return state  # stale
    new = dict(state) if state is not None else {
        "sku": item["sku"], "name": item["sku"], "active": True, "price_cents": None, "currency": None,
        "category": None, "stock": None, "low_stock_threshold": None}
    for name in VALUE_FIELDS:
        if item.get(name) is not None:
            new[name] = item[name]
    if item.get("stock_delta") is not None:
        new["stock"] = (new["stock"] or 0) + item["stock_delta"]
    if state is not None and all(new[f] == state[f] for f in VALUE_FIELDS):
        return state
    if updated is not None:
        new["updated_at"] = updated
    else:
        new["updated_at"] = now if state is None else max(now, state["updated_at"])
    return new


def _lock_existing(session: Session, skus: list[str]) -> dict[str, dict[str, Any]]:
    cols = [Product.sku] + [getattr(Product, f) for f in COLUMNS]
    if session.get_bind().dialect.name == "postgresql":
        param = bindparam("skus", skus, type_=ARRAY(Product.sku.type))
        stmts = [select(*cols).where(Product.sku == any_(param)).order_by(Product.sku).with_for_update()]
    else:  # the batch holds SQLite's write lock (BEGIN IMMEDIATE)
        stmts = [select(*cols).where(Product.sku.in_(skus[i:i + _CHUNK])) for i in range(0, len(skus), _CHUNK)]
    found = {}
    for stmt in stmts:
        for row in session.execute(stmt):
            found[row[0]] = dict(zip(("sku",) + COLUMNS, row))
    return found


def store_products(session: Session, items: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Upsert ``items`` (validated) and move low-stock episodes; returns the products that changed."""
    by_sku: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_sku.setdefault(item["sku"], []).append(item)
    changed: list[tuple[dict[str, Any] | None, dict[str, Any]]] = []
    pending = sorted(by_sku)
    for _ in range(3):  # a second round only for skus another writer inserted meanwhile
        existing = _lock_existing(session, pending)
        fresh, updates = [], []
        for sku in pending:
            old = existing.get(sku)
            new = old
            for item in by_sku[sku]:
                new = _apply(new, item, now)
            if old is None:
                fresh.append(new)
            elif new is not old:
                updates.append((old, new))
        lost: set[str] = set()
        if fresh:
            if session.get_bind().dialect.name == "postgresql":
                inserted = bulk.insert(session, Product.__table__, fresh, skip_conflicts_on="sku", returning="sku")
                lost = {r["sku"] for r in fresh} - set(inserted)
            else:
                bulk.insert(session, Product.__table__, fresh)
        if updates:
            bulk.update_by_key(session, Product.__table__, "sku", [new for _, new in updates])
        changed += updates + [(None, new) for new in fresh if new["sku"] not in lost]
        pending = sorted(lost)
        if not pending:
            break
    _move_episodes(session, changed, now)
    return [new for _, new in changed]


def _move_episodes(session: Session, changed: list[tuple[dict[str, Any] | None, dict[str, Any]]],
                   now: datetime) -> None:
    """Open an episode for each product that is low without one, close those no longer low."""
    if not changed:
        return
    threshold = global_threshold()
    low = {new["sku"]: new for _, new in changed if is_low(new, threshold)}
    skus = sorted(new["sku"] for _, new in changed)
    open_now: set[str] = set()
    for i in range(0, len(skus), _CHUNK):
        open_now |= set(session.scalars(select(LowStockEpisode.sku).where(
            LowStockEpisode.sku.in_(skus[i:i + _CHUNK]), LowStockEpisode.closed_at.is_(None))))
    to_open = [{"sku": sku, "opened_at": now, "closed_at": None, "stock_at_open": p["stock"]}
               for sku, p in sorted(low.items()) if sku not in open_now]
    to_close = sorted(open_now - set(low))
    if to_open:
        bulk.insert(session, LowStockEpisode.__table__, to_open)
    for i in range(0, len(to_close), _CHUNK):
        session.execute(update(LowStockEpisode).where(
            LowStockEpisode.sku.in_(to_close[i:i + _CHUNK]), LowStockEpisode.closed_at.is_(None))
            .values(closed_at=now))


def reconcile_episodes(session: Session, threshold: int, now: datetime) -> int:
    """Open an episode for every product low at ``threshold`` without one, close the open episodes
    of products no longer low; returns the episodes opened and closed.

    Episodes move at a product's change, with the threshold of that moment; a start with another
    ``LOW_STOCK_THRESHOLD`` calls this so they follow the new one at once. Two set-based
    statements, whatever the size of the catalogue. A product still low keeps its open episode
    (one shortage, one episode). A first read finds whether anything is to move: the usual start
    takes no lock. Otherwise writers are held off (a table lock on PostgreSQL, the write lock on
    SQLite) so a concurrent batch or another process starting cannot interleave; the caller commits.
    """
    episode = LowStockEpisode
    is_open = episode.closed_at.is_(None)
    low = low_condition(threshold)
    to_open = select(Product.sku, literal(now, episode.opened_at.type), null(), Product.stock).where(
        low, ~exists().where(episode.sku == Product.sku, is_open))
    not_low = ~exists().where(Product.sku == episode.sku, low)
    if not session.scalar(select(or_(exists(to_open), exists().where(is_open, not_low)))):
        return 0
    if session.get_bind().dialect.name == "postgresql":
        # products first, as ingest writes it before the episodes.
        session.execute(text("LOCK TABLE products, low_stock_episodes IN SHARE ROW EXCLUSIVE MODE"))
    else:
        begin_write(session)
    opened = session.execute(insert(episode).from_select(
        ["sku", "opened_at", "closed_at", "stock_at_open"], to_open)).rowcount
    closed = session.execute(update(episode).where(is_open, not_low).values(closed_at=now)
                             .execution_options(synchronize_session=False)).rowcount
    return max(opened, 0) + max(closed, 0)


def unknown_skus(session: Session, skus: set[str]) -> list[str]:
    """The skus of ``skus`` that no stored product has, sorted."""
    ordered = sorted(skus)
    if not ordered:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter instead of one per sku (a batch's lines name hundreds): cheaper to
        # render, send and plan.
        param = bindparam("skus", ordered, type_=ARRAY(Product.sku.type))
        stmts = [select(Product.sku).where(Product.sku == any_(param))]
    else:
        stmts = [select(Product.sku).where(Product.sku.in_(ordered[i:i + _CHUNK]))
                 for i in range(0, len(ordered), _CHUNK)]
    known: set[str] = set()
    for stmt in stmts:
        known |= set(session.scalars(stmt))
    return [sku for sku in ordered if sku not in known]


def unknown_in(session: Session, transactions: list[dict[str, Any]]) -> list[str] | None:
    """The skus the lines of ``transactions`` name that no product has (lines are stored all the
    same); None when no transaction carried ``items``."""
    if all(tx.get("items") is None for tx in transactions):
        return None
    return unknown_skus(session, {line["sku"] for tx in transactions for line in (tx.get("items") or ())})
