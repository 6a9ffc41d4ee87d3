"""Maintenance windows: while one covers an alert, the alert stays open and visible (marked muted)
but notifies nobody. A resolved notice for an alert notified before still goes out.

Kinds: ``once`` (``starts_at`` to ``ends_at``), ``recurring`` (an RFC 5545 ``rrule`` from the
local ``dtstart`` in ``timezone``, each occurrence lasting ``duration_minutes``; wall-clock time,
so a window at 09:00 Europe/Berlin stays at 09:00 across daylight saving changes: see
:mod:`services.routing.recurrence`) and ``manual`` (started and stopped by a call, e.g. from a
deploy script with an API token; optionally ending by itself after some minutes). ``matchers`` pick the alerts (none: every alert), ``monitor_ids`` narrow
them to the alerts of those service monitors (whose alerts carry the monitor's labels, so label
matchers pick monitors too). ``mode`` "mute" keeps covered alerts open but silent; "suppress"
also keeps new ones from opening. A window that would mute for longer than the configured
``MAINTENANCE_CONFIRM_HOURS`` (or with no end) needs ``"confirm": true``.
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
MODES = ("mute", "suppress")
MAX_MINUTES = 7 * 24 * 60
MAX_MONITORS = 100
# A window muting longer than this is refused unless the request says "confirm": true.
CONFIRM_AFTER = timedelta(hours=24)


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


def confirm_after(config: Any) -> timedelta:
    """How long a window may mute before it needs "confirm": true (MAINTENANCE_CONFIRM_HOURS)."""
    hours = (config or {}).get("MAINTENANCE_CONFIRM_HOURS")
    return CONFIRM_AFTER if hours is None else timedelta(hours=float(hours))


def _needs_confirm(payload: dict[str, Any], length: timedelta | None, limit: timedelta) -> None:
    if payload.get("confirm") is True or (length is not None and length <= limit):
        return
    how = "has no end" if length is None else f"lasts {length}"
    raise MaintenanceError(f"this window {how}, more than {limit}; send \"confirm\": true to mute "
                           "alerts for that long", "confirm", 409)


def _monitor_ids(session: Session | None, raw: Any) -> list[int]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_MONITORS:
        raise MaintenanceError(f"monitor_ids must list at most {MAX_MONITORS} monitor ids", "monitor_ids")
    for i, value in enumerate(raw):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
            raise MaintenanceError("monitor ids are positive integers", f"monitor_ids[{i}]")
    ids = sorted(set(raw))
    if session is not None and ids:
        # Imported here: the checks package imports the alert lifecycle, which imports this module.
        from services.checks.models import Monitor

        known = set(session.scalars(select(Monitor.id).where(Monitor.id.in_(ids))))
        missing = [i for i in ids if i not in known]
        if missing:
            raise MaintenanceError(f"monitor {missing[0]} does not exist", f"monitor_ids[{raw.index(missing[0])}]")
    return ids


def validate(payload: dict[str, Any], current: MaintenanceWindow | None = None, session: Session | None = None,
             limit: timedelta = CONFIRM_AFTER) -> dict[str, Any]:
    """Clean fields of a window, checked as a whole (the kind decides which fields count)."""
    fields = {"name", "kind", "matchers", "monitor_ids", "mode", "starts_at", "ends_at", "rrule", "dtstart",
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
    mode = merged.get("mode") or "mute"
    if mode not in MODES:
        raise MaintenanceError("mode must be mute (alerts open, notify nobody) or suppress (no alert opens)",
                               "mode")
    clean: dict[str, Any] = {"name": name.strip(), "kind": kind, "matchers": clean_matchers(merged.get("matchers")),
                             "monitor_ids": _monitor_ids(session, merged.get("monitor_ids")), "mode": mode,
                             "timezone": _zone(merged.get("timezone") or "UTC"), "starts_at": None,
                             "ends_at": None, "rrule": None, "dtstart": None, "duration_minutes": None}
    if kind == "once":
        start, end = _time(merged.get("starts_at"), "starts_at"), _time(merged.get("ends_at"), "ends_at")
        if end <= start:
            raise MaintenanceError("ends_at must be after starts_at", "ends_at")
        _needs_confirm(payload, end - start, limit)
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
        _needs_confirm(payload, timedelta(minutes=minutes), limit)
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


def covers(window: MaintenanceWindow, labels: dict[str, str]) -> bool:
    """Whether ``window`` takes an alert (or a monitor) with ``labels``; monitors by ``monitor_id``."""
    if window.monitor_ids and labels.get("monitor_id") not in {str(i) for i in window.monitor_ids}:
        return False
    return matches(window.matchers, labels)


class Muter:
    """The windows active at one moment, to ask about many alerts cheaply."""

    def __init__(self, session: Session, now: datetime):
        self.active = []
        for window in session.scalars(select(MaintenanceWindow).order_by(MaintenanceWindow.id)):
            on, until = active_until(window, now)
            if on:
                self.active.append((window, until))

    def window_for(self, labels: dict[str, str], suppressing: bool = False) -> tuple[MaintenanceWindow, Any] | None:
        """(window, until) of the first active window covering ``labels`` (only "suppress" ones if asked)."""
        return next(((w, until) for w, until in self.active
                     if (not suppressing or w.mode == "suppress") and covers(w, labels)), None)

    def muted_by(self, labels: dict[str, str]) -> str | None:
        """The name of a window muting an alert with ``labels``, or None."""
        found = self.window_for(labels)
        return found[0].name if found else None

    def suppressed_by(self, labels: dict[str, str]) -> str | None:
        """The name of a window keeping an alert with ``labels`` from opening, or None."""
        found = self.window_for(labels, suppressing=True)
        return found[0].name if found else None


def get(session: Session, window_id: int) -> MaintenanceWindow:
    """One window (404 otherwise)."""
    window = session.get(MaintenanceWindow, window_id)
    if window is None:
        raise MaintenanceError(f"maintenance window {window_id} does not exist", "id", 404)
    return window


def create(session: Session, payload: dict[str, Any], actor: str,
           limit: timedelta = CONFIRM_AFTER) -> MaintenanceWindow:
    """Add a window (flushed); a manual one starts stopped."""
    window = MaintenanceWindow(**validate(payload, None, session, limit), active=False, created_by=actor, created_at=utcnow())
    session.add(window)
    session.flush()
    return window


def update(session: Session, window_id: int, payload: dict[str, Any],
           limit: timedelta = CONFIRM_AFTER) -> MaintenanceWindow:
    """Change a window."""
    window = get(session, window_id)
    for key, value in validate(payload, window, session, limit).items():
        setattr(window, key, value)
    session.flush()
    return window


def delete(session: Session, window_id: int) -> None:
    """Remove a window (alerts it muted notify again on the next tick)."""
    session.delete(get(session, window_id))
    session.flush()


def start(session: Session, window_id: int, minutes: Any = None, now: datetime | None = None,
          confirm: Any = False, limit: timedelta = CONFIRM_AFTER) -> MaintenanceWindow:
    """Start a manual window now, until stopped or for ``minutes`` (longer than ``limit``, or
    without an end, only with ``confirm``)."""
    window = get(session, window_id)
    if window.kind != "manual":
        raise MaintenanceError(f"window {window.name!r} is {window.kind}; only manual windows start by hand",
                               "id", 409)
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)
                                or not 1 <= minutes <= MAX_MINUTES):
        raise MaintenanceError(f"minutes must be 1 to {MAX_MINUTES}, or left out", "minutes")
    _needs_confirm({"confirm": confirm}, timedelta(minutes=minutes) if minutes else None, limit)
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
            "monitor_ids": list(window.monitor_ids or []), "mode": window.mode or "mute",
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
