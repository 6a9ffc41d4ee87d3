"""Maintenance windows: while one covers an alert, the alert stays open and visible (marked muted)
but notifies nobody. A resolved notice for an alert notified before still goes out.

Kinds: ``once`` (``starts_at`` to ``ends_at``), ``recurring`` (an RFC 5545 ``rrule`` from the
local ``dtstart`` in ``timezone``, each occurrence lasting ``duration_minutes``; wall-clock time,
so a window at 09:00 Europe/Berlin stays at 09:00 across daylight saving changes: see
:mod:`services.routing.recurrence`) and ``manual`` (started and stopped by a call, e.g. from a
deploy script with an API token; optionally ending by itself after some minutes). ``matchers`` pick the alerts (none: every alert).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from services.infra.input_checks import InputError, has_control
from services.routing import recurrence
from services.routing.matchers import clean_matchers, matches
from services.routing.models import MaintenanceWindow
from services.ingest.validation import ValidationError, parse_query_time

KINDS = ("once", "recurring", "manual")
MAX_MINUTES = 7 * 24 * 60
# A one-off window longer than this is refused unless the request says "confirm": true.
LONG_WINDOW = timedelta(days=7)


class MaintenanceError(InputError):
    """Refused window input (400 naming the field), a missing window (404), a wrong move (409)."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        code = {404: "not_found", 409: "conflict"}.get(status, "invalid_maintenance")
        super().__init__(message, field, code, status)


def _time(raw: Any, field: str) -> datetime:
    if not isinstance(raw, str):
        raise MaintenanceError(f"{field} must be an ISO 8601 time", field)
    try:
        return parse_query_time(raw, field)
    except ValidationError as exc:
        raise MaintenanceError(str(exc), field) from None


def _zone(raw: Any) -> str:
    if not isinstance(raw, str) or not raw or len(raw) > 64 or has_control(raw):
        raise MaintenanceError("timezone must be an IANA time zone name", "timezone")
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise MaintenanceError(f"unknown time zone {raw[:64]!r}", "timezone") from None
    return raw


def validate(payload: dict[str, Any], current: MaintenanceWindow | None = None) -> dict[str, Any]:
    """Clean fields of a window, checked as a whole (the kind decides which fields count)."""
    fields = {"name", "kind", "matchers", "starts_at", "ends_at", "rrule", "dtstart",
              "duration_minutes", "timezone", "confirm"}
    unknown = set(payload) - fields - {"id", "active", "active_now", "active_until", "next_start", "created_by"}
    if unknown:
        raise MaintenanceError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}", "body")
    old = to_dict(current, utcnow()) if current else {}
    merged = {**old, **payload}
    name = merged.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 80 or has_control(name):
        raise MaintenanceError("name must be one line of 1 to 80 characters", "name")
    kind = merged.get("kind")
    if kind not in KINDS:
        raise MaintenanceError("kind must be once, recurring or manual", "kind")
    clean: dict[str, Any] = {"name": name.strip(), "kind": kind, "matchers": clean_matchers(merged.get("matchers")),
                             "timezone": _zone(merged.get("timezone") or "UTC"), "starts_at": None,
                             "ends_at": None, "rrule": None, "dtstart": None, "duration_minutes": None}
    if kind == "once":
        start, end = _time(merged.get("starts_at"), "starts_at"), _time(merged.get("ends_at"), "ends_at")
        if end <= start:
            raise MaintenanceError("ends_at must be after starts_at", "ends_at")
        if end - start > LONG_WINDOW and payload.get("confirm") is not True:
            raise MaintenanceError(f"this window lasts {end - start}; send \"confirm\": true to mute "
                                   "alerts for that long", "confirm", 409)
        clean.update(starts_at=start, ends_at=end)
    elif kind == "recurring":
        try:
            dtstart = recurrence.parse_start(merged.get("dtstart"))
            rule = recurrence.validate(merged.get("rrule"), dtstart, clean["timezone"])
        except recurrence.RecurrenceError as exc:
            raise MaintenanceError(str(exc), exc.field) from None
        minutes = merged.get("duration_minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
            raise MaintenanceError(f"duration_minutes must be 1 to {MAX_MINUTES}", "duration_minutes")
        clean.update(rrule=rule, dtstart=dtstart.isoformat(timespec="minutes"), duration_minutes=minutes)
    else:  # manual: its times are set by start and stop, not by edits
        del clean["starts_at"], clean["ends_at"]
    return clean


def active_until(window: MaintenanceWindow, now: datetime) -> tuple[bool, datetime | None]:
    """(whether the window mutes now, until when; None = until stopped)."""
    if window.kind == "once":
        return window.starts_at <= now < window.ends_at, window.ends_at
    if window.kind == "manual":
        on = window.active and (window.ends_at is None or now < window.ends_at)
        return bool(on), window.ends_at if on else None
    span = recurrence.covering(window.rrule, window.dtstart, window.timezone, window.duration_minutes or 0, now)
    return (True, span[1]) if span else (False, None)


class Muter:
    """The windows active at one moment, to ask about many alerts cheaply."""

    def __init__(self, session: Session, now: datetime):
        self.active = [w for w in session.scalars(select(MaintenanceWindow)) if active_until(w, now)[0]]

    def muted_by(self, labels: dict[str, str]) -> str | None:
        """The name of a window muting an alert with ``labels``, or None."""
        return next((w.name for w in self.active if matches(w.matchers, labels)), None)


def get(session: Session, window_id: int) -> MaintenanceWindow:
    """One window (404 otherwise)."""
    window = session.get(MaintenanceWindow, window_id)
    if window is None:
        raise MaintenanceError(f"maintenance window {window_id} does not exist", "id", 404)
    return window


def create(session: Session, payload: dict[str, Any], actor: str) -> MaintenanceWindow:
    """Add a window (flushed); a manual one starts stopped."""
    window = MaintenanceWindow(**validate(payload), active=False, created_by=actor, created_at=utcnow())
    session.add(window)
    session.flush()
    return window


def update(session: Session, window_id: int, payload: dict[str, Any]) -> MaintenanceWindow:
    """Change a window."""
    window = get(session, window_id)
    for key, value in validate(payload, window).items():
        setattr(window, key, value)
    session.flush()
    return window


def delete(session: Session, window_id: int) -> None:
    """Remove a window (alerts it muted notify again on the next tick)."""
    session.delete(get(session, window_id))
    session.flush()


def start(session: Session, window_id: int, minutes: Any = None, now: datetime | None = None) -> MaintenanceWindow:
    """Start a manual window now, until stopped or for ``minutes``."""
    window = get(session, window_id)
    if window.kind != "manual":
        raise MaintenanceError(f"window {window.name!r} is {window.kind}; only manual windows start by hand",
                               "id", 409)
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)
                                or not 1 <= minutes <= MAX_MINUTES):
        raise MaintenanceError(f"minutes must be 1 to {MAX_MINUTES}, or left out", "minutes")
    now = now or utcnow()
    window.active, window.starts_at = True, now
    window.ends_at = now + timedelta(minutes=minutes) if minutes else None
    session.flush()
    return window


def stop(session: Session, window_id: int, now: datetime | None = None) -> MaintenanceWindow:
    """Stop a manual window now."""
    window = get(session, window_id)
    if window.kind != "manual":
        raise MaintenanceError(f"window {window.name!r} is {window.kind}; only manual windows stop by hand",
                               "id", 409)
    window.active, window.ends_at = False, now or utcnow()
    session.flush()
    return window


def to_dict(window: MaintenanceWindow, now: datetime | None = None) -> dict[str, Any]:
    """The API shape, with whether it mutes now and until when."""
    now = now or utcnow()
    on, until = active_until(window, now)
    iso = lambda t: t.isoformat() if t else None  # noqa: E731 - local formatter
    return {"id": window.id, "name": window.name, "kind": window.kind, "matchers": list(window.matchers or []),
            "starts_at": iso(window.starts_at), "ends_at": iso(window.ends_at),
            "rrule": window.rrule, "dtstart": window.dtstart,
            "duration_minutes": window.duration_minutes, "timezone": window.timezone,
            "active": bool(window.active), "active_now": on, "active_until": iso(until),
            "next_start": iso(recurrence.next_start(window.rrule, window.dtstart, window.timezone, now))
            if window.kind == "recurring" else None,
            "created_by": window.created_by}


def list_all(session: Session) -> list[MaintenanceWindow]:
    """Every window, oldest first."""
    return list(session.scalars(select(MaintenanceWindow).order_by(MaintenanceWindow.id)))
