"""Ingest: the one way business data gets in (HTTP API, in-process hooks, demo).

A batch is validated completely first, then written in ONE database transaction:
transactions are upserted by id, the 15-minute revenue rollups (and each customer's
first-seen time) move by the exact difference between each row's old and new state, and
activities and log lines are appended. After the commit every stored item is announced on
``services.infra.bus`` ("transaction.stored", "activity.stored", "log.stored",
"ingest.committed"), which is how the live layer hears about it; this module
never talks to Socket.IO itself.

Re-sending a transaction: fields given replace the stored ones (a missing or
null ``channel`` keeps the stored channel). With ``updated_at`` given, a send
older than the stored ``updated_at`` is stale and ignored, so out-of-order
deliveries cannot move a transaction back. An identical re-send changes nothing.
Each status change is kept in ``transaction_status_changes`` (``status_history``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import database
from database import utcnow
from services.ingest.models import Transaction, UserActivity
from services.logs import LogEntry
from services.infra import bulk
from services.infra import bus as events
from services.infra import topics
from services.ingest import first_seen
from services.ingest import rollups
from services.ingest import status_history
from services.ingest.validation import (
    VALIDATORS, ValidationError, validate_activity, validate_batch, validate_log,
)
from services.products import sales as product_sales
from services.products import stock as product_stock
from services.products.validation import validate_product, validate_transaction_with_items

__all__ = ["IngestResult", "ValidationError", "ingest_batch", "store", "record_transaction",
           "log_user_activity", "record_log", "store_one"]

log = logging.getLogger(__name__)
TX_FIELDS = ("amount_cents", "currency", "status", "customer_id", "channel", "created_at", "updated_at")
_LOOKUP_CHUNK = 900
# PostgreSQL deadlock / serialization failure: the whole batch is retried from scratch.
_RETRY_SQLSTATES = {"40P01", "40001"}
_ATTEMPTS = 4


@dataclass
class IngestResult:
    """What one batch did: items accepted per kind, and transactions actually changed."""

    transactions: int = 0
    activities: int = 0
    logs: int = 0
    alerts: int | None = None  # None: the batch carried no "alerts" key
    products: int | None = None  # None: the batch carried no products
    unknown_skus: list[str] | None = None  # None: no transaction of the batch carried items
    changed: int = 0
    stored_transactions: list[dict[str, Any]] = field(default_factory=list)
    stored_activities: list[dict[str, Any]] = field(default_factory=list)
    stored_logs: list[dict[str, Any]] = field(default_factory=list)
    final_transactions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def accepted(self) -> dict[str, int]:
        """Counts per kind, as the API answers them."""
        counts = {"transactions": self.transactions, "activities": self.activities, "logs": self.logs}
        counts = counts if self.alerts is None else {**counts, "alerts": self.alerts}
        return counts if self.products is None else {**counts, "products": self.products}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def transaction_payload(row: dict[str, Any]) -> dict[str, Any]:
    """A transaction as a JSON-ready dict (the "transaction.stored" payload)."""
    return {"id": row["id"], "amount_cents": row["amount_cents"], "currency": row["currency"],
            "status": row["status"], "customer_id": row["customer_id"], "channel": row["channel"],
            "created_at": _iso(row["created_at"]), "updated_at": _iso(row["updated_at"])}


# -- transactions ---------------------------------------------------------------------------

def _apply(state: dict[str, Any] | None, item: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The transaction after ``item`` is applied to ``state`` (None: not stored yet)."""
    updated = item["updated_at"]
    if state is None:
        return {"id": item["id"], **{f: item[f] for f in TX_FIELDS},
                "updated_at": updated or item["created_at"], "items": item.get("items") or []}
    if updated is not None and updated < state["updated_at"]:
        return state  # stale: an older version arrived after a newer one
    new = {"id": item["id"], **{f: item[f] for f in TX_FIELDS}}
    if new["channel"] is None:
        new["channel"] = state["channel"]
    # Lines not sent keep the stored ones.
    new["items"] = state["items"] if item.get("items") is None else item["items"]
    new["updated_at"] = state["updated_at"] if updated is None else updated
    if all(new[f] == state[f] for f in TX_FIELDS) and new["items"] == state["items"]:
        return state
    if updated is None:
        # A change without its own time happened now (never before the stored version).
        new["updated_at"] = max(now, state["updated_at"])
    return new


def _fold(state: dict[str, Any] | None, items: list[dict[str, Any]], now: datetime,
          steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    for item in items:
        state = _apply(state, item, now)
        if steps is not None:
            steps.append(state)  # each send's result: the status history is read from them
    return state


def _lock_existing(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored rows of ``ids``, locked FOR UPDATE on PostgreSQL (in id order: no deadlocks)."""
    cols = [Transaction.id] + [getattr(Transaction, f) for f in TX_FIELDS]
    found: dict[str, dict[str, Any]] = {}
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter instead of a thousand: cheap to send and to plan.
        ids_param = bindparam("ids", ids, type_=ARRAY(Transaction.id.type))
        chunks = [select(*cols).where(Transaction.id == any_(ids_param)).order_by(Transaction.id)
                  .with_for_update()]
    else:
        chunks = [select(*cols).where(Transaction.id.in_(ids[i:i + _LOOKUP_CHUNK]))
                  for i in range(0, len(ids), _LOOKUP_CHUNK)]
    for stmt in chunks:
        for row in session.execute(stmt):
            found[row[0]] = dict(zip(("id",) + TX_FIELDS, row))
    product_sales.attach_items(session, found)
    return found


def _insert_new(session: Session, rows: list[dict[str, Any]], now: datetime) -> set[str]:
    """Insert rows not stored yet; returns the ids another writer inserted first (PostgreSQL).

    SQLite: we hold the database's write lock (BEGIN IMMEDIATE), nobody can race us.
    PostgreSQL: a concurrent batch may insert the same new id; ON CONFLICT DO NOTHING
    waits for it to commit, and the caller then treats that id as an update.
    """
    if not rows:
        return set()
    params = [{**{k: v for k, v in r.items() if k != "items"}, "received_at": now} for r in rows]
    if session.get_bind().dialect.name != "postgresql":
        # One executemany; RETURNING would make the driver run it row by row.
        bulk.insert(session, Transaction.__table__, params)
        return set()
    inserted = bulk.insert(session, Transaction.__table__, params, skip_conflicts_on="id", returning="id")
    return {r["id"] for r in rows} - set(inserted)


def _update_changed(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk.update_by_key(session, Transaction.__table__, "id",
                       [{"id": r["id"], **{f: r[f] for f in TX_FIELDS}} for r in rows])


def _store_transactions(session: Session, items: list[dict[str, Any]], now: datetime,
                        result: IngestResult) -> None:
    """Upsert ``items`` and move the rollups by exactly what changed."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_id.setdefault(item["id"], []).append(item)
    deltas = rollups.Deltas()
    sales = product_sales.SalesDeltas()
    moves: list[tuple[dict[str, Any] | None, dict[str, Any]]] = []
    pending = sorted(by_id)
    for _ in range(3):  # a second round only for ids another writer inserted meanwhile
        existing = _lock_existing(session, pending)
        fresh, changed, steps = [], [], {}
        for tid in pending:
            old = existing.get(tid)
            new = _fold(old, by_id[tid], now, steps.setdefault(tid, []))
            result.final_transactions[tid] = new
            if old is None:
                fresh.append(new)
            elif new is not old:
                changed.append((old, new))
        lost = _insert_new(session, fresh, now)
        _update_changed(session, [new for _, new in changed])
        for new in fresh:
            if new["id"] not in lost:
                changed.append((None, new))
        for old, new in changed:
            deltas.move(old, new)
            sales.move(old, new)
            moves.append((old, new))
            result.stored_transactions.append(new)
        status_history.record(session, [(old, steps[new["id"]]) for old, new in changed], now)
        pending = sorted(lost)
        if not pending:
            break
    else:  # pragma: no cover - needs rows deleted between our insert and our lookup
        raise RuntimeError("transaction ids kept changing under this batch; retry it")
    rollups.apply(session, deltas)
    product_sales.write_items(session, moves)
    product_sales.apply(session, sales)
    first_seen.record(session, moves)
    result.changed = len(result.stored_transactions)


# -- activities and logs --------------------------------------------------------------------

def _insert_with_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` and return their new ids in order (live clients key what they show by id)."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return bulk.insert(session, model.__table__, rows, returning="id")
    # SQLite: this batch holds the write lock, so the next ids are ours to hand out, and one
    # executemany replaces a row-by-row INSERT ... RETURNING.
    first = (session.scalar(select(func.max(model.id))) or 0) + 1
    ids = list(range(first, first + len(rows)))
    bulk.insert(session, model.__table__, [{**row, "id": i} for row, i in zip(rows, ids)])
    return ids


# -- one batch, one transaction -------------------------------------------------------------

def _retryable(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES


def store(session: Session, clean: dict[str, list[dict[str, Any]]], now: datetime | None = None) -> IngestResult:
    """Write a validated batch in one transaction, commit it, then announce what was stored.

    ``session`` must have no uncommitted work of the caller's: it is committed here
    (and rolled back on failure). A PostgreSQL deadlock retries the whole batch.
    """
    now = now or utcnow()
    for attempt in range(1, _ATTEMPTS + 1):
        result = IngestResult(transactions=len(clean.get("transactions", ())),
                              activities=len(clean.get("activities", ())), logs=len(clean.get("logs", ())))
        try:
            rollups.begin_write(session)
            if clean.get("products"):  # first: lines of this batch may name products it brings
                product_stock.store_products(session, clean["products"], now)
                result.products = len(clean["products"])
            if clean.get("transactions"):
                _store_transactions(session, clean["transactions"], now, result)
            activity_ids = _insert_with_ids(session, UserActivity, clean.get("activities") or [])
            log_ids = _insert_with_ids(session, LogEntry, clean.get("logs") or [])
            alert_changes, alert_ids = _apply_alerts(session, clean.get("alerts") or [], now)
            result.unknown_skus = product_stock.unknown_in(session, clean.get("transactions") or [])
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            if attempt < _ATTEMPTS and _retryable(exc):
                log.warning("ingest: %s, retrying the batch (attempt %d)", type(exc.orig).__name__, attempt)
                continue
            raise
        except BaseException:
            session.rollback()
            raise
        result.stored_activities = [{**row, "id": i} for row, i in
                                    zip(clean.get("activities") or [], activity_ids)]
        result.stored_logs = [{**row, "id": i} for row, i in zip(clean.get("logs") or [], log_ids)]
        result.alerts = len(clean["alerts"]) if "alerts" in clean and clean["alerts"] else None
        if alert_changes or alert_ids:
            _announce_alerts(session, alert_changes, alert_ids)
        _announce(result)
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def _apply_alerts(session: Session, items: list[dict[str, Any]], now: datetime) -> tuple[list, list[int]]:
    """Fire, refresh or resolve the batch's alerts in its transaction, with their notification rows."""
    if not items:
        return [], []
    from flask import current_app

    from services.alerts import dispatch as alert_dispatch
    from services.alerts import external as alert_external

    changes = []
    for item in items:
        changes += alert_external.apply(session, item, now)[1]
    return changes, alert_dispatch.prepare_notifications(current_app._get_current_object(), session, changes)


def _announce_alerts(session: Session, changes: list, notification_ids: list[int]) -> None:
    from flask import current_app

    from services.alerts import dispatch as alert_dispatch

    alert_dispatch.announce(current_app._get_current_object(), session, changes, notification_ids)


def _announce(result: IngestResult) -> None:
    """Publish after the commit: subscribers only ever hear about data that is really stored."""
    for row in result.stored_transactions:
        events.publish(topics.TRANSACTION_STORED, transaction_payload(row))
    for row in result.stored_activities:
        events.publish(topics.ACTIVITY_STORED, {"id": row["id"], "user_id": row["user_id"], "action": row["action"],
                                           "detail": row["detail"], "created_at": _iso(row["created_at"])})
    for row in result.stored_logs:
        events.publish(topics.LOG_STORED, {"id": row["id"], "created_at": _iso(row["created_at"]),
                                      "level": row["level"], "service": row["service"],
                                      "message": row["message"]})
    events.publish(topics.INGEST_COMMITTED, result.accepted())


def ingest_batch(session: Session, body: Any, now: datetime | None = None) -> IngestResult:
    """Validate a whole batch (``{"transactions", "activities", "logs"}``) and store it.

    Raises ``ValidationError`` for the first bad item, before anything is written.
    """
    now = now or utcnow()
    validators = {**VALIDATORS, "alerts": validate_alert, "products": validate_product,
                  "transactions": validate_transaction_with_items}
    return store(session, validate_batch(body, now, validators), now)


def validate_alert(item: Any, now: datetime) -> dict[str, Any]:
    """An alert raised by another service (``services.alerts.external.clean`` decides)."""
    from services.alerts import external as alert_external

    try:
        return alert_external.clean(item)
    except alert_external.ExternalAlertError as exc:
        raise ValidationError(exc.message, field=exc.field) from None


# -- in-process hooks -----------------------------------------------------------------------

def store_one(kind: str, row: dict[str, Any], now: datetime, app: Flask | None,
              session: Session | None) -> IngestResult:
    """Store one validated item of ``kind`` in ``session`` (committed) or a new session of ``app``."""
    clean = {kind: [row]}
    if session is not None:
        return store(session, clean, now)
    own = database.state(app).session_factory()
    try:
        return store(own, clean, now)
    finally:
        own.close()


def record_transaction(id: str, amount_cents: int, currency: str, status: str,  # noqa: A002 - the contract's field name
                       customer_id: str, created_at: datetime | str | None = None,
                       updated_at: datetime | str | None = None, channel: str | None = None,
                       items: list[dict[str, Any]] | None = None, *,
                       app: Flask | None = None, session: Session | None = None) -> dict[str, Any]:
    """Store (or update) one transaction now, with its rollups; returns it as stored.

    Same rules as the ingest API; ``created_at`` defaults to now; ``items`` (the lines,
    ``[{"sku", "quantity", "amount_cents"}]``) replace the stored ones when given. Raises
    ``ValidationError`` for bad values. Uses ``session`` when given (and commits
    it), otherwise a session of ``app`` (default: the current app).
    """
    now = utcnow()
    row = validate_transaction_with_items({"id": id, "amount_cents": amount_cents, "currency": currency,
                                "status": status, "customer_id": customer_id,
                                "created_at": created_at or now, "updated_at": updated_at,
                                "channel": channel, "items": items}, now)
    result = store_one("transactions", row, now, app, session)
    return transaction_payload(result.final_transactions[row["id"]])


def log_user_activity(user_id: str, action: str, detail: str | None = None,
                      created_at: datetime | str | None = None, *, app: Flask | None = None,
                      session: Session | None = None) -> dict[str, Any]:
    """Record that ``user_id`` did ``action`` (now unless ``created_at``); returns it with its id."""
    now = utcnow()
    row = validate_activity({"user_id": user_id, "action": action, "detail": detail,
                             "created_at": created_at}, now)
    stored = store_one("activities", row, now, app, session).stored_activities[0]
    return {**stored, "created_at": _iso(stored["created_at"])}


def record_log(service: str, level: str, message: str, created_at: datetime | str | None = None,
               logger: str | None = None, *, app: Flask | None = None,
               session: Session | None = None) -> dict[str, Any]:
    """Store one log line from ``service`` at ``level``; returns it with its id."""
    now = utcnow()
    row = validate_log({"service": service, "level": level, "message": message,
                        "created_at": created_at, "logger": logger}, now)
    result = store_one("logs", row, now, app, session)
    stored = result.stored_logs[0]
    return {**stored, "created_at": _iso(stored["created_at"])}


