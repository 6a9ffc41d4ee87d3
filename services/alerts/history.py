"""Reading alerts back: the filtered, cursor-paged history the page, the API and exports share."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from services.alerts.models import Alert
from services.alerts.rules import OPEN_STATUSES, SEVERITIES
from services.alerts.lifecycle import alert_to_dict
from services.infra import MAX_ID, InputError, ascii_int, check_text

STATUS_FILTERS = {
    "active": OPEN_STATUSES,
    "open": OPEN_STATUSES,
    "pending": ("pending",),
    "firing": ("firing",),
    "acknowledged": ("acknowledged",),
    "resolved": ("resolved",),
    "all": None,
}


class FilterError(InputError):
    """A history filter is not understood (answered 400, naming ``field``)."""


@dataclass
class AlertFilters:
    """What to read: status group, severities, a rule (id or name), a time range on started_at."""

    status: str = "all"
    severity: tuple[str, ...] = ()
    rule: str | int | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: int | None = None
    limit: int = 100

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> "AlertFilters":
        """Build filters from loose input (query args, an export request), checking each one."""
        status = _ascii_lower(raw.get("status") or "all")
        if status not in STATUS_FILTERS:
            raise FilterError(f"status must be one of: {', '.join(STATUS_FILTERS)}", "status")
        severity = raw.get("severity") or ()
        if isinstance(severity, str):
            severity = tuple(_ascii_lower(s) for s in severity.split(",") if s.strip())
        if not isinstance(severity, (list, tuple)) or any(s not in SEVERITIES for s in severity):
            raise FilterError(f"severity must be among: {', '.join(SEVERITIES)}", "severity")
        rule = _rule(raw.get("rule"))
        since, until = raw.get("since"), raw.get("until")
        if since and until and since > until:
            raise FilterError("since must not be after until", "since")
        return cls(status=status, severity=tuple(severity), rule=rule, since=since, until=until,
                   cursor=raw.get("cursor"), limit=int(raw.get("limit") or 100))


def _ascii_lower(value) -> str:
    # Folded only when ASCII: the Kelvin sign must not become the "k" of "acknowledged".
    text = str(value).strip()
    return text.lower() if text.isascii() else text


def _rule(raw) -> int | str | None:
    """A rule id (ASCII digits, within the id column's range) or a rule name."""
    if raw in (None, ""):
        return None
    try:
        text = check_text(str(raw), "rule").strip()
        if text.isdigit():
            # An id, in ASCII digits ("²" and "١٢" are digits to Python's int(), not to us).
            return ascii_int(text, "rule", 1, MAX_ID)
    except InputError as exc:
        raise FilterError(f"{exc.message} (a rule id in ASCII digits, or a rule name)", "rule") from None
    return text or None


def _query(filters: AlertFilters):
    query = select(Alert)
    statuses = STATUS_FILTERS[filters.status]
    if statuses is not None:
        query = query.where(Alert.status.in_(statuses))
    if filters.severity:
        query = query.where(Alert.severity.in_(filters.severity))
    if isinstance(filters.rule, int):
        query = query.where(Alert.rule_id == filters.rule)
    elif filters.rule:
        query = query.where(Alert.rule_name == filters.rule)
    if filters.since:
        query = query.where(Alert.started_at >= filters.since)
    if filters.until:
        query = query.where(Alert.started_at < filters.until)
    return query


def list_alerts(session: Session, filters: AlertFilters) -> tuple[list[Alert], int | None]:
    """One page of alerts, newest first (by id), and the cursor of the next page (None at the end)."""
    query = _query(filters)
    if filters.cursor is not None:
        query = query.where(Alert.id < filters.cursor)
    rows = list(session.scalars(query.order_by(Alert.id.desc()).limit(filters.limit + 1)))
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return rows, (rows[-1].id if more and rows else None)


def alert_history(session: Session, filters: AlertFilters | dict[str, Any], batch: int = 1000):
    """Every alert matching ``filters`` as JSON-ready dicts, newest first, read in batches.

    A generator, so an export of a long history never holds it all in memory.
    """
    if not isinstance(filters, AlertFilters):
        filters = AlertFilters.from_mapping(filters)
    now = utcnow()
    cursor = None
    while True:
        page = AlertFilters(**{**filters.__dict__, "cursor": cursor, "limit": batch})
        rows, cursor = list_alerts(session, page)
        for alert in rows:
            yield alert_to_dict(alert, now)
        if cursor is None:
            return
