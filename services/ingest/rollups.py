"""15-minute revenue rollups: exact deltas applied with atomic upserts, and a full rebuild.

A transaction contributes one count to the status column of its bucket
(created_at floored to 15 minutes, currency, channel or '') and, when completed,
its amount to ``revenue_cents``. Ingest computes the difference between a row's
old and new contribution and adds it with ``INSERT ... ON CONFLICT DO UPDATE SET
x = x + excluded.x``, so concurrent writers (several processes on PostgreSQL)
never overwrite each other's counts. ``rebuild`` recomputes everything from the
raw rows; ``recompute`` returns what the rollups should hold, for checks.

``currency_rollups`` holds the same buckets with the channels summed (what every reader
but the channel figures wants: a third of the rows with three channels). The same batch
moves it by the channel deltas summed per bucket and currency; ``rebuild`` sums it anew.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from services.ingest.models import CurrencyRollup, RevenueRollup

BUCKET_SECONDS = 15 * 60
COUNTS = ("completed", "pending", "failed", "refunded")
FIELDS = COUNTS + ("revenue_cents",)
_REVENUE = len(COUNTS)

RollupKey = tuple[datetime, str, str]


def bucket_start(moment: datetime) -> datetime:
    """``moment`` floored to its 15-minute bucket, aware UTC."""
    seconds = int(moment.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS
    return datetime.fromtimestamp(seconds, timezone.utc)


class Deltas:
    """Per-bucket changes of the five rollup columns, summed in memory before one upsert."""

    def __init__(self) -> None:
        self.values: dict[RollupKey, list[int]] = {}

    def add(self, row: Mapping[str, Any], sign: int) -> None:
        """Add (sign=+1) or remove (sign=-1) the contribution of one transaction row."""
        key = (bucket_start(row["created_at"]), row["currency"], row.get("channel") or "")
        vector = self.values.get(key)
        if vector is None:
            vector = self.values[key] = [0] * len(FIELDS)
        status = row["status"]
        vector[COUNTS.index(status)] += sign
        if status == "completed":
            vector[_REVENUE] += sign * row["amount_cents"]

    def move(self, old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> None:
        """Account for a row changing from ``old`` (None when new) to ``new``."""
        if old is not None:
            self.add(old, -1)
        self.add(new, +1)

    def rows(self) -> list[dict[str, Any]]:
        """Non-zero deltas as upsert parameters, in key order (a fixed lock order avoids deadlocks)."""
        out = []
        for key in sorted(self.values):
            vector = self.values[key]
            if any(vector):
                out.append({"bucket_start": key[0], "currency": key[1], "channel": key[2],
                            **dict(zip(FIELDS, vector))})
        return out


def dialect_insert(session: Session):
    """The dialect's ``insert`` construct that knows ON CONFLICT (PostgreSQL or SQLite)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the panel supports these two only
        raise RuntimeError(f"unsupported database dialect {name!r}")
    return insert


def _add_upsert(session: Session, table, keys: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    stmt = dialect_insert(session)(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys],
        set_={name: table.c[name] + stmt.excluded[name] for name in FIELDS},
    )
    session.execute(stmt, rows)


def _per_currency(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Channel rows summed per bucket and currency, in key order, all-zero sums left out."""
    sums: dict[tuple[datetime, str], list[int]] = {}
    for row in rows:
        vector = sums.setdefault((row["bucket_start"], row["currency"]), [0] * len(FIELDS))
        for i, name in enumerate(FIELDS):
            vector[i] += row[name]
    return [{"bucket_start": key[0], "currency": key[1], **dict(zip(FIELDS, vector))}
            for key, vector in sorted(sums.items()) if any(vector)]


def apply(session: Session, deltas: Deltas) -> int:
    """Add ``deltas`` to both rollup tables atomically; returns the number of buckets touched."""
    rows = deltas.rows()
    if not rows:
        return 0
    _add_upsert(session, RevenueRollup.__table__, ("bucket_start", "currency", "channel"), rows)
    totals = _per_currency(rows)
    if totals:  # empty when a batch only moved transactions between channels
        _add_upsert(session, CurrencyRollup.__table__, ("bucket_start", "currency"), totals)
    return len(rows)


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer.

    On SQLite, ``BEGIN IMMEDIATE`` takes the write lock before we read the rows we
    are about to change, so no other writer (thread or process) can change them
    in between; a plain deferred transaction would fail to upgrade or read stale
    rows. PostgreSQL locks rows with ``SELECT ... FOR UPDATE`` instead.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    dbapi = conn.connection.dbapi_connection
    if not dbapi.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _bucket_sql(dialect: str) -> str:
    if dialect == "postgresql":
        return f"(CAST(floor(extract(epoch FROM created_at)) AS BIGINT) / {BUCKET_SECONDS}) * {BUCKET_SECONDS}"
    return f"(CAST(strftime('%s', created_at) AS INTEGER) / {BUCKET_SECONDS}) * {BUCKET_SECONDS}"


def recompute(session: Session) -> dict[RollupKey, dict[str, int]]:
    """What the rollups must hold, aggregated from the raw transactions by the database."""
    sums = ", ".join(f"SUM(CASE WHEN status = '{s}' THEN 1 ELSE 0 END)" for s in COUNTS)
    sql = (f"SELECT {_bucket_sql(session.get_bind().dialect.name)} AS b, currency, "
           f"COALESCE(channel, '') AS ch, {sums}, "
           "SUM(CASE WHEN status = 'completed' THEN amount_cents ELSE 0 END) "
           "FROM transactions GROUP BY 1, 2, 3")
    out = {}
    for row in session.execute(text(sql)):
        key = (datetime.fromtimestamp(int(row[0]), timezone.utc), row[1], row[2])
        out[key] = dict(zip(FIELDS, (int(v) for v in row[3:])))
    return out


def current(session: Session) -> dict[RollupKey, dict[str, int]]:
    """The rollups as stored, leaving out buckets whose counts all went back to zero."""
    out = {}
    for r in session.scalars(select(RevenueRollup)):
        values = {name: getattr(r, name) for name in FIELDS}
        if any(values.values()):
            out[(r.bucket_start, r.currency, r.channel)] = values
    return out


def current_per_currency(session: Session) -> dict[tuple[datetime, str], dict[str, int]]:
    """``currency_rollups`` as stored, leaving out buckets whose counts all went back to zero."""
    out = {}
    for r in session.scalars(select(CurrencyRollup)):
        values = {name: getattr(r, name) for name in FIELDS}
        if any(values.values()):
            out[(r.bucket_start, r.currency)] = values
    return out


def per_currency(rollups: Mapping[RollupKey, Mapping[str, int]]) -> dict[tuple[datetime, str], dict[str, int]]:
    """What ``currency_rollups`` must hold for the channel rollups ``rollups`` (for checks)."""
    rows = [{"bucket_start": k[0], "currency": k[1], **v} for k, v in rollups.items()]
    return {(r["bucket_start"], r["currency"]): {f: r[f] for f in FIELDS} for r in _per_currency(rows)}


def rebuild(session: Session) -> int:
    """Recompute every rollup from the raw rows, in the session's transaction; returns buckets written.

    Writers are held off meanwhile (table locks on PostgreSQL, the write lock on
    SQLite), so the result is exact even while ingest goes on. The caller commits.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE transactions, revenue_rollups, currency_rollups "
                             "IN SHARE ROW EXCLUSIVE MODE"))
    else:
        begin_write(session)
    fresh = recompute(session)
    session.execute(delete(RevenueRollup))
    rows = [{"bucket_start": k[0], "currency": k[1], "channel": k[2], **v} for k, v in sorted(fresh.items())]
    for start in range(0, len(rows), 5000):
        session.execute(RevenueRollup.__table__.insert(), rows[start:start + 5000])
    sum_per_currency(session)
    return len(rows)


def sum_per_currency(session: Session) -> int:
    """Refill ``currency_rollups`` from ``revenue_rollups`` (the caller holds writers off)."""
    session.execute(delete(CurrencyRollup))
    r = RevenueRollup
    session.execute(insert(CurrencyRollup).from_select(
        ["bucket_start", "currency", *FIELDS],
        select(r.bucket_start, r.currency, *(func.sum(getattr(r, name)) for name in FIELDS))
        .group_by(r.bucket_start, r.currency)))
    return session.scalar(select(func.count()).select_from(CurrencyRollup)) or 0


def fill_once(session: Session, target, source, fill: Callable[[Session], int]) -> int:
    """Run ``fill`` (returns rows) when table ``target`` is empty while ``source`` (a statement
    selecting a row) finds one: a derived table a database from an earlier version lacks.

    Several processes may start at once: the first one locks ``target`` and its source tables
    against writers and fills; the others wait, then find it full.
    """
    def empty() -> bool:
        return session.scalar(select(target.c[target.primary_key.columns.keys()[0]]).limit(1)) is None

    if not empty() or session.scalar(source.limit(1)) is None:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        names = sorted({t.name for t in source.get_final_froms()} | {target.name})
        session.execute(text(f"LOCK TABLE {', '.join(names)} IN SHARE ROW EXCLUSIVE MODE"))
    else:
        begin_write(session)
    return fill(session) if empty() else 0


def fill_per_currency_if_empty(session: Session) -> int:
    """Fill ``currency_rollups`` once for a database whose rollups predate it; returns rows."""
    return fill_once(session, CurrencyRollup.__table__, select(RevenueRollup.currency), sum_per_currency)


def expected_from(rows: Iterable[Mapping[str, Any]]) -> dict[RollupKey, dict[str, int]]:
    """Rollups computed in Python from transaction rows (for demos and checks)."""
    deltas = Deltas()
    for row in rows:
        deltas.add(row, +1)
    return {(r["bucket_start"], r["currency"], r["channel"]): {f: r[f] for f in FIELDS}
            for r in deltas.rows()}
