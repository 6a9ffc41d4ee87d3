"""Search from the top bar: order ids, customer ids, products, alerts and log text, grouped by kind.

Every lookup is bounded and indexed: an order or customer is found by its exact id (primary key)
or by an id starting with the text (a range read on the same key, checked again in Python, so a
database collation that orders ids differently can only leave a prefix hit out, never add a wrong
one); a product by its SKU the same way, then by a word of its name starting with the text (a
read of the catalogue, which holds one row per product); an alert by its number or a word of its title (the alerts table stays small: one row per
incident); a log line by text in the last ``LOG_DAYS`` days only, newest first, read through the
``created_at`` index. Each kind answers at most ``PER_KIND`` hits.

More kinds join through ``SEARCHERS``: a function ``(session, q, now) -> list of hits`` with a
kind and a label.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.parse import quote

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.alerts import Alert
from services.explore.cursor import ExploreParamError
from services.explore.entities import usable_id
from services.ingest import CustomerFirstSeen, Transaction
from services.logs import LogEntry
from services.products.models import Product

PER_KIND = 8
LOG_DAYS = 7
MIN_LENGTH = 2
MAX_LENGTH = 200
Hit = dict[str, Any]


def _prefixed(session: Session, col, q: str) -> list[str]:
    """Ids equal to or starting with ``q``, through the key's index."""
    upper = q[:-1] + chr(ord(q[-1]) + 1) if ord(q[-1]) < 0x10FFFF else q + "\uffff"
    found = session.scalars(select(col).where(col >= q, col < upper).order_by(col).limit(PER_KIND)).all()
    exact = session.scalar(select(col).where(col == q))
    ids = ([exact] if exact else []) + [i for i in found if i != exact and i.startswith(q)]
    return ids[:PER_KIND]


def orders(session: Session, q: str, _now: datetime) -> list[Hit]:
    """Transactions whose id is or starts with ``q``."""
    if not usable_id(q):
        return []
    ids = _prefixed(session, Transaction.id, q)
    rows = {r.id: r for r in session.execute(
        select(Transaction.id, Transaction.status, Transaction.amount_cents, Transaction.currency,
               Transaction.customer_id).where(Transaction.id.in_(ids)))} if ids else {}
    return [{"id": i, "title": i, "detail": f"{rows[i].status} · {rows[i].amount_cents / 100:.2f} {rows[i].currency}"
             + (f" · {rows[i].customer_id}" if rows[i].customer_id else ""),
             "href": f"/admin/orders/{quote(i, safe='')}"} for i in ids if i in rows]


def customers(session: Session, q: str, _now: datetime) -> list[Hit]:
    """Customers (anyone with a transaction) whose id is or starts with ``q``."""
    if not usable_id(q):
        return []
    ids = _prefixed(session, CustomerFirstSeen.customer_id, q)
    return [{"id": i, "title": i, "detail": "customer", "href": f"/admin/customers/{quote(i, safe='')}"}
            for i in ids]


def products(session: Session, q: str, _now: datetime) -> list[Hit]:
    """Products whose SKU is ``q``, then starts with it, then whose name has a word starting with it."""
    skus = _prefixed(session, Product.sku, q) if usable_id(q) else []
    word = q.lower()
    name = func.lower(Product.name)
    named = session.scalars(select(Product.sku).where(
        or_(name.startswith(word, autoescape=True), name.contains(" " + word, autoescape=True)))
        .order_by(name, Product.sku).limit(PER_KIND)).all()
    skus += [s for s in named if s not in skus]
    skus = skus[:PER_KIND]
    rows = {r.sku: r for r in session.execute(
        select(Product.sku, Product.name, Product.active, Product.stock).where(Product.sku.in_(skus)))} if skus else {}
    return [{"id": s, "title": f"{s} · {rows[s].name}",
             "detail": ("inactive" if not rows[s].active else
                        "stock not tracked" if rows[s].stock is None else f"stock {rows[s].stock}"),
             "href": f"/admin/products?q={quote(s, safe='')}"} for s in skus if s in rows]


def alerts(session: Session, q: str, _now: datetime) -> list[Hit]:
    """Alerts numbered ``q`` (also ``#q``) or whose title contains it, newest first."""
    number = q.lstrip("#")
    cond = Alert.title.icontains(q, autoescape=True)
    if number.isascii() and number.isdigit() and len(number) < 10:
        cond = cond | (Alert.id == int(number))
    rows = session.execute(select(Alert.id, Alert.title, Alert.status, Alert.severity).where(cond)
                           .order_by(Alert.id.desc()).limit(PER_KIND)).all()
    return [{"id": r.id, "title": f"#{r.id} {r.title}", "detail": f"{r.severity} · {r.status}",
             "href": f"/admin/alerts?alert={r.id}"} for r in rows]


def logs(session: Session, q: str, now: datetime) -> list[Hit]:
    """Log lines of the last ``LOG_DAYS`` days containing ``q``, newest first."""
    since = now - timedelta(days=LOG_DAYS)
    rows = session.execute(select(LogEntry.id, LogEntry.created_at, LogEntry.level, LogEntry.service,
                                  LogEntry.message)
                           .where(LogEntry.created_at >= since, LogEntry.message.icontains(q, autoescape=True))
                           .order_by(LogEntry.created_at.desc(), LogEntry.id.desc()).limit(PER_KIND)).all()
    out = []
    for r in rows:
        at = r.created_at
        window = f"since={quote((at - timedelta(minutes=1)).isoformat())}&until={quote((at + timedelta(minutes=1)).isoformat())}"
        out.append({"id": r.id, "title": r.message[:160], "detail": f"{r.level} · {r.service} · {at.isoformat()}",
                    "href": f"/admin/logs?q={quote(q)}&{window}"})
    return out


# (kind, label, searcher): the order the groups are listed in.
SEARCHERS: list[tuple[str, str, Callable[[Session, str, datetime], list[Hit]]]] = [
    ("orders", "Orders", orders), ("customers", "Customers", customers), ("products", "Products", products),
    ("alerts", "Alerts", alerts), ("logs", "Log lines", logs),
]


def search(session: Session, q: str, now: datetime) -> dict[str, Any]:
    """Hits for ``q`` grouped by kind (empty groups left out); ExploreParamError for a bad ``q``."""
    q = (q or "").strip()
    if len(q) < MIN_LENGTH:
        raise ExploreParamError(f"q must have at least {MIN_LENGTH} characters", "q")
    if len(q) > MAX_LENGTH:
        raise ExploreParamError(f"q may have at most {MAX_LENGTH} characters", "q")
    groups = []
    for kind, label, searcher in SEARCHERS:
        hits = searcher(session, q, now)
        if hits:
            groups.append({"kind": kind, "label": label, "hits": hits})
    return {"q": q, "groups": groups}
