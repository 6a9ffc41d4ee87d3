"""Drill-down: the rows behind a figure (transactions, activities, log lines, request minutes).

Each kind reads the same table the figure was computed from, with the figure's filters and time
(``services.explore.window``), newest first, paged by a keyset cursor (never OFFSET), through the
indexes on the time column. ``totals`` say what every matching row adds up to (count, and per
currency the amount, completed revenue and orders), so the panel can show the figure beside the
rows it came from.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from services.explore import cursor as cursors
from services.explore.cursor import ExploreParamError
from services.explore.entities import transaction_dict
from services.explore.window import Window, read
from services.ingest import Transaction, UserActivity
from services.insights import revenue as revenue_insights
from services.logs import query as logs
from services.monitor import RequestStat

KINDS = ("transactions", "activities", "logs", "requests")
STATUSES = ("completed", "pending", "failed", "refunded")
NO_CHANNEL = "(none)"
MAX_LIMIT = 500
TEXT_FILTERS = {"transactions": ("channel", "customer"), "activities": ("user", "action"),
                "requests": ("endpoint", "method", "label")}


def _text(args: Mapping[str, str], name: str, cap: int = 200) -> str | None:
    value = (args.get(name) or "").strip()
    if len(value) > cap:
        raise ExploreParamError(f"{name} may be at most {cap} characters", name)
    return value or None


def in_window(col, window: Window):
    """``col`` inside the window (or inside one of its heatmap-cell intervals)."""
    if window.intervals is None:
        return and_(col >= window.start, col < window.end)
    if not window.intervals:
        return col != col  # an empty cell: nothing matches
    return or_(*(and_(col >= a, col < b) for a, b in window.intervals))


def _page(session: Session, stmt, time_col, id_col, key_type: type, limit: int, cursor: str | None,
          as_dict: Callable[[Any], dict]) -> tuple[list[dict], str | None]:
    after = cursors.decode(cursor, key_type)
    if after is not None:
        stmt = stmt.where(or_(time_col < after[0], and_(time_col == after[0], id_col < after[1])))
    rows = session.execute(stmt.order_by(time_col.desc(), id_col.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = cursors.encode(getattr(rows[-1], time_col.key), getattr(rows[-1], id_col.key)) if more else None
    return [as_dict(r) for r in rows], nxt


def transaction_where(args: Mapping[str, str], window: Window) -> list:
    """The conditions of a transactions drill-down: window, currency, statuses, channel, customer."""
    t = Transaction
    where = [in_window(t.created_at, window)]
    currency = args.get("currency")
    if currency:
        try:
            where.append(t.currency == revenue_insights.normalise_currency(currency))
        except ValueError as exc:
            raise ExploreParamError(str(exc), "currency") from None
    statuses = [s.strip() for s in (args.get("status") or "").split(",") if s.strip()]
    if any(s not in STATUSES for s in statuses):
        raise ExploreParamError(f"status must be among {', '.join(STATUSES)}", "status")
    if statuses:
        where.append(t.status.in_(statuses))
    channel = _text(args, "channel", 32)
    if channel == NO_CHANNEL:
        where.append(or_(t.channel.is_(None), t.channel == ""))
    elif channel:
        where.append(t.channel == channel)
    customer = _text(args, "customer", 64)
    if customer:
        where.append(t.customer_id == customer)
    return where


def transactions(session: Session, args: Mapping[str, str], window: Window, limit: int,
                 cursor: str | None) -> dict[str, Any]:
    """Transactions created in the window with the figure's currency, status, channel, customer."""
    t = Transaction
    where = transaction_where(args, window)
    cols = (t.id, t.amount_cents, t.currency, t.status, t.customer_id, t.channel, t.created_at, t.updated_at)
    rows, nxt = _page(session, select(*cols).where(*where), t.created_at, t.id, str, limit, cursor,
                      transaction_dict)
    done = case((t.status == "completed", 1), else_=0)
    sums = session.execute(select(t.currency, func.count(), func.sum(t.amount_cents), func.sum(done),
                                  func.sum(done * t.amount_cents)).where(*where).group_by(t.currency)
                           .order_by(t.currency)).all()
    totals = {"count": sum(r[1] for r in sums),
              "currencies": [{"currency": r[0], "count": r[1], "amount_cents": int(r[2] or 0),
                              "orders": int(r[3] or 0), "revenue_cents": int(r[4] or 0)} for r in sums]}
    return {"rows": rows, "next_cursor": nxt, "totals": totals}


def activities(session: Session, args: Mapping[str, str], window: Window, limit: int,
               cursor: str | None) -> dict[str, Any]:
    """User activity in the window (or one heatmap cell), by ``user`` and ``action``."""
    a = UserActivity
    where = [in_window(a.created_at, window)]
    for name, col in (("user", a.user_id), ("action", a.action)):
        value = _text(args, name, 64)
        if value:
            where.append(col == value)
    rows, nxt = _page(session, select(a.id, a.user_id, a.action, a.detail, a.created_at).where(*where),
                      a.created_at, a.id, int, limit, cursor,
                      lambda r: {"id": r.id, "user_id": r.user_id, "action": r.action, "detail": r.detail,
                                 "created_at": r.created_at.isoformat()})
    count = session.scalar(select(func.count()).select_from(a).where(*where))
    return {"rows": rows, "next_cursor": nxt, "totals": {"count": count}}


def log_lines(session: Session, args: Mapping[str, str], window: Window, limit: int,
              cursor: str | None) -> dict[str, Any]:
    """Log lines in the window at ``level`` and up, of ``service``, containing ``q``."""
    try:
        filters = logs.LogFilters.from_mapping(args)
        filters.since, filters.until = window.start, window.end - timedelta(microseconds=1)
        body = logs.page(session, filters, limit=limit, cursor=cursor)
    except logs.LogQueryError as exc:
        raise ExploreParamError(exc.message, exc.field) from None
    return {"rows": body["logs"], "next_cursor": body["next_cursor"], "totals": None}


def requests(session: Session, args: Mapping[str, str], window: Window, limit: int,
             cursor: str | None) -> dict[str, Any]:
    """Per-minute request rows of ``endpoint``/``method``/``label`` whose minute lies in the window."""
    r = RequestStat
    where = [in_window(r.minute, window)]
    for name in TEXT_FILTERS["requests"]:
        value = _text(args, name, 200)
        if value:
            where.append(getattr(r, name) == value)
    cols = (r.id, r.minute, r.endpoint, r.method, r.label, r.count, r.errors, r.total_ms, r.max_ms)
    rows, nxt = _page(session, select(*cols).where(*where), r.minute, r.id, int, limit, cursor,
                      lambda x: {"id": x.id, "minute": x.minute.isoformat(), "endpoint": x.endpoint,
                                 "method": x.method, "label": x.label, "count": x.count, "errors": x.errors,
                                 "avg_ms": round(x.total_ms / x.count, 2) if x.count else None,
                                 "max_ms": round(x.max_ms, 2)})
    sums = session.execute(select(func.count(), func.coalesce(func.sum(r.count), 0),
                                  func.coalesce(func.sum(r.errors), 0)).where(*where)).one()
    return {"rows": rows, "next_cursor": nxt,
            "totals": {"count": sums[0], "requests": int(sums[1]), "errors": int(sums[2])}}


def _check_every_filter(args: Mapping[str, str], window: Window) -> None:
    """Refuse a malformed filter whichever kind is asked: a link carrying a bad currency or level
    is wrong even where that filter does not narrow the rows, and answering 200 would hide it."""
    transaction_where(args, window)
    for name in ("user", "action"):
        _text(args, name, 64)
    for name in TEXT_FILTERS["requests"]:
        _text(args, name, 200)
    try:
        logs.LogFilters.from_mapping(args)
    except logs.LogQueryError as exc:
        raise ExploreParamError(exc.message, exc.field) from None


READERS = {"transactions": transactions, "activities": activities, "logs": log_lines, "requests": requests}


def explore(session: Session, kind: str, args: Mapping[str, str], now: datetime, limit: int,
            cursor: str | None) -> dict[str, Any]:
    """One page of ``kind``'s rows behind a figure, with the window it covers and the totals."""
    if kind not in READERS:
        raise ExploreParamError(f"kind must be one of {', '.join(KINDS)}", "kind")
    window = read(args, now)
    _check_every_filter(args, window)
    body = READERS[kind](session, args, window, limit, cursor)
    return {"kind": kind, **window.describe(), **body}
