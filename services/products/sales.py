"""Transaction lines and the daily product sales rollups, kept exact by ingest.

A transaction's lines contribute, per (UTC day of its ``created_at``, its currency, sku), their
quantity to the column of its status and, when it is completed, their amounts to
``revenue_cents``: the same rule as the revenue rollups (``services.ingest.rollups``). Ingest
removes a transaction's old contribution and adds its new one, so a completed order refunded
leaves the best sellers as it leaves revenue. Changes are atomic increments (``INSERT ... ON
CONFLICT DO UPDATE SET x = x + excluded.x``): several writers never overwrite each other.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from services.infra import bulk
from services.ingest.rollups import COUNTS, FIELDS, begin_write
from services.products.models import ProductSalesRollup, TransactionItem

# Daily buckets (UTC): 30 days of 300 products in 3 currencies are at most 27,000 rows to sum.
BUCKET_SECONDS = 86400
_REVENUE = len(COUNTS)
_CHUNK = 900
KEYS = ("bucket_start", "currency", "sku")
COLUMNS = KEYS + FIELDS

SalesKey = tuple[datetime, str, str]


def bucket_start(moment: datetime) -> datetime:
    """``moment`` floored to its bucket (the UTC day), aware UTC."""
    seconds = int(moment.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS
    return datetime.fromtimestamp(seconds, timezone.utc)


class SalesDeltas:
    """Per (day, currency, sku) changes of the five rollup columns, summed before one upsert.

    A day is kept as its epoch seconds while summing: hashing and sorting integers is several
    times cheaper than aware datetimes, and a batch of lines touches a thousand keys.
    """

    def __init__(self) -> None:
        self.values: dict[tuple[int, str, str], list[int]] = {}

    def add(self, tx: Mapping[str, Any], sign: int) -> None:
        """Add (+1) or remove (-1) the contribution of one transaction's lines."""
        lines = tx.get("items")
        if not lines:
            return
        day = int(tx["created_at"].timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS
        currency, status, values = tx["currency"], tx["status"], self.values
        column, completed = COUNTS.index(status), status == "completed"
        for line in lines:
            key = (day, currency, line["sku"])
            vector = values.get(key)
            if vector is None:
                vector = values[key] = [0] * len(FIELDS)
            vector[column] += sign * line["quantity"]
            if completed:
                vector[_REVENUE] += sign * line["amount_cents"]

    def move(self, old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> None:
        """Account for a transaction changing from ``old`` (None when new) to ``new``."""
        if old is not None:
            self.add(old, -1)
        self.add(new, +1)

    def tuples(self) -> list[tuple]:
        """Non-zero deltas as ``(bucket_start, currency, sku, *FIELDS)``, in key order (a fixed
        lock order avoids deadlocks)."""
        days: dict[int, datetime] = {}
        out = []
        for (day, currency, sku), vector in sorted(self.values.items()):
            if any(vector):
                at = days.get(day)
                if at is None:
                    at = days[day] = datetime.fromtimestamp(day, timezone.utc)
                out.append((at, currency, sku, *vector))
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Non-zero deltas as upsert parameters (dicts), in key order."""
        return [dict(zip(COLUMNS, row)) for row in self.tuples()]


def attach_items(session: Session, found: dict[str, dict[str, Any]]) -> None:
    """Give each stored transaction of ``found`` its stored lines as ``items`` (in line order)."""
    for state in found.values():
        state["items"] = []
    ids = sorted(found)
    t = TransactionItem
    for start in range(0, len(ids), _CHUNK):
        stmt = (select(t.transaction_id, t.sku, t.quantity, t.amount_cents)
                .where(t.transaction_id.in_(ids[start:start + _CHUNK])).order_by(t.transaction_id, t.line))
        for tid, sku, quantity, amount in session.execute(stmt):
            found[tid]["items"].append({"sku": sku, "quantity": quantity, "amount_cents": amount})


def write_items(session: Session, moves: Iterable[tuple[Mapping[str, Any] | None, Mapping[str, Any]]]) -> None:
    """Store the lines of new transactions and replace those of transactions whose lines changed."""
    replaced, rows = [], []
    for old, new in moves:
        lines = new.get("items") or []
        if old is not None:
            if (old.get("items") or []) == lines:
                continue
            replaced.append(new["id"])
        rows += [{"transaction_id": new["id"], "line": i, **line} for i, line in enumerate(lines)]
    for start in range(0, len(replaced), _CHUNK):
        session.execute(delete(TransactionItem).where(
            TransactionItem.transaction_id.in_(replaced[start:start + _CHUNK])))
    if rows:
        bulk.insert(session, TransactionItem.__table__, rows)


def apply(session: Session, deltas: SalesDeltas) -> int:
    """Add ``deltas`` to the product sales rollups atomically; returns the rows touched."""
    rows = deltas.tuples()
    # One statement over arrays on PostgreSQL, one driver-level executemany on SQLite: the
    # upsert of a batch's lines (a row per day, currency and sku) costs about what the revenue
    # rollups' does, instead of a parameter set assembled per row.
    bulk.add_upsert(session, ProductSalesRollup.__table__, KEYS, FIELDS, rows)
    return len(rows)


def recompute(session: Session) -> dict[SalesKey, dict[str, int]]:
    """What the sales rollups must hold, summed by the database from transactions and their lines."""
    step = BUCKET_SECONDS
    bucket = (f"(CAST(floor(extract(epoch FROM t.created_at)) AS BIGINT) / {step}) * {step}"
              if session.get_bind().dialect.name == "postgresql"
              else f"(CAST(strftime('%s', t.created_at) AS INTEGER) / {step}) * {step}")
    sums = ", ".join(f"SUM(CASE WHEN t.status = '{s}' THEN i.quantity ELSE 0 END)" for s in COUNTS)
    sql = (f"SELECT {bucket}, t.currency, i.sku, {sums}, "
           "SUM(CASE WHEN t.status = 'completed' THEN i.amount_cents ELSE 0 END) "
           "FROM transaction_items i JOIN transactions t ON t.id = i.transaction_id GROUP BY 1, 2, 3")
    return {(datetime.fromtimestamp(int(r[0]), timezone.utc), r[1], r[2]): dict(zip(FIELDS, map(int, r[3:])))
            for r in session.execute(text(sql))}


def current(session: Session) -> dict[SalesKey, dict[str, int]]:
    """The sales rollups as stored, leaving out rows whose counts all went back to zero."""
    out = {}
    for r in session.scalars(select(ProductSalesRollup)):
        values = {name: getattr(r, name) for name in FIELDS}
        if any(values.values()):
            out[(r.bucket_start, r.currency, r.sku)] = values
    return out


def rebuild(session: Session) -> int:
    """Recompute the sales rollups from the raw lines in the session's transaction; returns rows written.

    Writers are held off meanwhile, as ``services.ingest.rollups.rebuild`` holds them off (table
    locks on PostgreSQL, the write lock on SQLite), so the result is exact even while ingest goes
    on. ``transactions`` comes first in the lock: ingest writes it before the lines, so a rebuild
    that already holds it (after the revenue rollups, in the same transaction) waits for nobody
    who waits for it. The caller commits.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE transactions, transaction_items, product_sales_rollups "
                             "IN SHARE ROW EXCLUSIVE MODE"))
    else:
        begin_write(session)
    fresh = recompute(session)
    session.execute(delete(ProductSalesRollup))
    rows = [{"bucket_start": k[0], "currency": k[1], "sku": k[2], **v} for k, v in sorted(fresh.items())]
    for start in range(0, len(rows), 5000):
        session.execute(ProductSalesRollup.__table__.insert(), rows[start:start + 5000])
    return len(rows)
