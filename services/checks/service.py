"""Monitors: create, read, change, delete, pause, export and import; heartbeats of push monitors.

Functions take a session first and flush; the caller (a blueprint) audits and commits, then
calls ``announce`` for alert changes, so a refused write changes nothing.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from services.infra import bus as events
from services.infra import topics
from services.alerts.lifecycle import Change
from services.checks import state, storage
from services.checks.models import Monitor, MonitorEvent
from services.checks.validation import COMMON, MIN_INTERVAL, MonitorError, clean

TOPIC = topics.MONITOR_CHANGED
MAX_IMPORT = 1000
PUSH_STATUSES = ("up", "down")


class MonitorNotFound(LookupError):
    """No monitor has that id (404)."""


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def to_input(monitor: Monitor) -> dict[str, Any]:
    """The monitor as it would be sent to create it (the export format)."""
    body = {k: getattr(monitor, k) for k in COMMON}
    body.update(monitor.config or {})
    return body


def to_dict(monitor: Monitor, figures: dict | None = None) -> dict[str, Any]:
    """The JSON shape of a monitor: its settings, state, last result and uptime figures."""
    body = to_input(monitor)
    body.update({
        "id": monitor.id, "config": dict(monitor.config or {}), "status": state.display_status(monitor),
        "state": monitor.state, "state_since": _iso(monitor.state_since),
        "consecutive_failures": monitor.consecutive_failures,
        "consecutive_successes": monitor.consecutive_successes,
        "last_checked_at": _iso(monitor.last_checked_at), "last_ok": monitor.last_ok,
        "last_latency_ms": None if monitor.last_latency_ms is None else round(monitor.last_latency_ms, 2),
        "last_error": monitor.last_error, "last_error_at": _iso(monitor.last_error_at),
        "last_detail": monitor.last_detail or {}, "alert_id": monitor.alert_id,
        "created_at": _iso(monitor.created_at), "updated_at": _iso(monitor.updated_at),
    })
    if monitor.kind == "push":
        body.update({"push_token": monitor.push_token,
                     "heartbeat_path": f"/api/v1/heartbeat/{monitor.push_token}",
                     "last_push_at": _iso(monitor.last_push_at)})
    if figures is not None:
        body.update(figures)
    return body


def get(session: Session, monitor_id: int) -> Monitor:
    """The monitor, or MonitorNotFound."""
    monitor = session.get(Monitor, monitor_id)
    if monitor is None:
        raise MonitorNotFound(f"monitor {monitor_id} does not exist")
    return monitor


def list_monitors(session: Session) -> list[Monitor]:
    """Every monitor, by name."""
    return list(session.scalars(select(Monitor).order_by(Monitor.name)))


def list_with_figures(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every monitor as JSON with its uptime 24 h / 7 d / 30 d and 24 h average latency."""
    now = now or utcnow()
    monitors = list_monitors(session)
    ids = [m.id for m in monitors]
    figures, sparks = storage.uptimes(session, ids, now), storage.sparks(session, ids, now)
    return [to_dict(m, {**(figures.get(m.id) or {}), "hourly": sparks.get(m.id, [])}) for m in monitors]


def detail(session: Session, monitor_id: int, now: datetime | None = None) -> dict[str, Any]:
    """One monitor with its figures, the last 24 hourly buckets, recent results and state changes."""
    now = now or utcnow()
    monitor = get(session, monitor_id)
    body = to_dict(monitor, storage.uptimes(session, [monitor.id], now).get(monitor.id))
    body["hourly"] = storage.series(session, monitor.id, now)
    body["results"] = storage.recent_results(session, monitor.id)
    body["events"] = [{"at": _iso(e.at), "from": e.from_state, "to": e.to_state, "error": e.error,
                       "alerted": e.alerted}
                      for e in session.scalars(select(MonitorEvent).where(
                          MonitorEvent.monitor_id == monitor.id)
                          .order_by(MonitorEvent.at.desc(), MonitorEvent.id.desc()).limit(50))]
    return body


def _check_name(session: Session, name: str, own_id: int | None) -> None:
    other = session.scalar(select(Monitor.id).where(Monitor.name == name))
    if other is not None and other != own_id:
        raise MonitorError(f"a monitor named {name!r} exists already", "name", status=409)


def _check_parent(session: Session, parent_id: int | None, own_id: int | None) -> None:
    if parent_id is None:
        return
    seen = {own_id} if own_id else set()
    current = parent_id
    for _ in range(state.MAX_DEPTH + 1):
        if current is None:
            return
        if current in seen:
            raise MonitorError("parent_id would make a monitor its own ancestor", "parent_id")
        parent = session.get(Monitor, current)
        if parent is None:
            raise MonitorError(f"parent_id: monitor {current} does not exist", "parent_id")
        seen.add(current)
        current = parent.parent_id
    raise MonitorError(f"parent_id: parents nest deeper than {state.MAX_DEPTH}", "parent_id")


def _assign(monitor: Monitor, fields: dict) -> None:
    for key, value in fields.items():
        setattr(monitor, key, value)


def create(session: Session, body: Any, now: datetime | None = None,
           min_interval: int = MIN_INTERVAL) -> Monitor:
    """Validate and add a monitor (a push monitor gets its random heartbeat token)."""
    fields = clean(body, min_interval=min_interval)
    _check_name(session, fields["name"], None)
    _check_parent(session, fields["parent_id"], None)
    now = now or utcnow()
    monitor = Monitor(state="pending", state_since=now, created_at=now, updated_at=now,
                      consecutive_failures=0, consecutive_successes=0)
    _assign(monitor, fields)
    if monitor.kind == "push":
        monitor.push_token = secrets.token_urlsafe(24)
    session.add(monitor)
    session.flush()
    return monitor


def update(session: Session, monitor_id: int, body: Any, now: datetime | None = None,
           min_interval: int = MIN_INTERVAL) -> tuple[Monitor, dict, list[Change]]:
    """Change some or all fields; returns the monitor, what changed (old, new) and alert changes.

    A change of what is checked starts the state over (pending): the old results judged
    another target. Pausing resolves the open alert.
    """
    monitor = get(session, monitor_id)
    if not isinstance(body, dict):
        raise MonitorError("the body must be a JSON object", "body")
    fields = clean(body, to_input(monitor), min_interval)
    _check_name(session, fields["name"], monitor.id)
    _check_parent(session, fields["parent_id"], monitor.id)
    before = to_input(monitor)
    now = now or utcnow()
    changed = {k: (before.get(k), v) for k, v in {**{k: v for k, v in fields.items() if k != "config"},
                                                  **fields["config"]}.items() if before.get(k) != v}
    changes: list[Change] = []
    if fields["config"] != (monitor.config or {}):
        monitor.state, monitor.state_since = "pending", now
        monitor.consecutive_failures = monitor.consecutive_successes = 0
        changes += state.resolve_alert(session, monitor, now, "monitor changed")
    if fields["paused"] and not monitor.paused:
        changes += state.resolve_alert(session, monitor, now, "monitor paused")
    _assign(monitor, fields)
    monitor.updated_at = now
    session.flush()
    return monitor, changed, changes


def set_paused(session: Session, monitor_id: int, paused: Any) -> tuple[Monitor, list[Change]]:
    """Pause or resume one monitor (the page's button); its other settings stay as they are."""
    if not isinstance(paused, bool):
        raise MonitorError("paused must be true or false", "paused")
    monitor = get(session, monitor_id)
    changes = state.resolve_alert(session, monitor, utcnow(), "monitor paused") if paused else []
    monitor.paused, monitor.updated_at = paused, utcnow()
    session.flush()
    return monitor, changes


def delete(session: Session, monitor_id: int) -> tuple[Monitor, list[Change]]:
    """Delete a monitor with its results; its open alert is resolved, its children lose the parent."""
    monitor = get(session, monitor_id)
    changes = state.resolve_alert(session, monitor, utcnow(), "monitor deleted")
    for child in session.scalars(select(Monitor).where(Monitor.parent_id == monitor.id)):
        child.parent_id = None
    session.flush()
    session.delete(monitor)
    session.flush()
    return monitor, changes


def export_all(session: Session) -> dict[str, Any]:
    """Every monitor in the import format; parents by name, so ids of another panel do not matter."""
    monitors = list_monitors(session)
    names = {m.id: m.name for m in monitors}
    items = []
    for m in monitors:
        body = to_input(m)
        body.pop("parent_id")
        body["parent"] = names.get(m.parent_id)
        items.append(body)
    return {"version": 1, "exported_at": utcnow().isoformat(), "monitors": items}


def import_all(session: Session, body: Any, min_interval: int = MIN_INTERVAL) -> dict[str, int]:
    """Create or update (by name) every monitor of an export; all or nothing.

    A refused item answers 400 naming ``monitors[i].field``; parents are matched by name.
    """
    items = body.get("monitors") if isinstance(body, dict) else None
    if not isinstance(items, list) or len(items) > MAX_IMPORT:
        raise MonitorError(f"monitors must be a list of at most {MAX_IMPORT} monitors", "monitors")
    created = updated = 0
    parents: list[tuple[Monitor, str, int]] = []
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise MonitorError(f"monitors[{index}] must be an object", f"monitors[{index}]")
        item = dict(raw)
        parent = item.pop("parent", None)
        if parent is not None and not isinstance(parent, str):
            raise MonitorError("parent must be a monitor name", f"monitors[{index}].parent")
        item.pop("parent_id", None)
        try:
            existing = session.scalar(select(Monitor).where(Monitor.name == item.get("name"))) \
                if isinstance(item.get("name"), str) else None
            if existing is None:
                monitor = create(session, item, min_interval=min_interval)
                created += 1
            else:
                monitor = update(session, existing.id, item, min_interval=min_interval)[0]
                updated += 1
        except MonitorError as exc:
            raise MonitorError(f"monitors[{index}]: {exc.message}",
                               f"monitors[{index}].{exc.field}", exc.status) from None
        if parent:
            parents.append((monitor, parent, index))
    for monitor, parent, index in parents:
        parent_id = session.scalar(select(Monitor.id).where(Monitor.name == parent))
        if parent_id is None:
            raise MonitorError(f"monitors[{index}]: parent {parent[:60]!r} is not a monitor",
                               f"monitors[{index}].parent")
        _check_parent(session, parent_id, monitor.id)
        monitor.parent_id = parent_id
    session.flush()
    return {"created": created, "updated": updated}


def heartbeat(session: Session, token: str, body: Any, now: datetime | None = None) -> Monitor:
    """Stamp a push monitor's heartbeat (optional ``status`` up|down and ``message``).

    The runner judges it on the monitor's next check; MonitorNotFound for an unknown token.
    """
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        raise MonitorNotFound("no push monitor has this token")
    monitor = session.scalar(select(Monitor).where(Monitor.push_token == token, Monitor.kind == "push"))
    if monitor is None:
        raise MonitorNotFound("no push monitor has this token")
    body = body or {}
    if not isinstance(body, dict):
        raise MonitorError("the body must be a JSON object", "body")
    status = body.get("status", "up")
    if status not in PUSH_STATUSES:
        raise MonitorError("status must be up or down", "status")
    message = body.get("message")
    if message is not None and (not isinstance(message, str) or len(message) > 500):
        raise MonitorError("message must be text of at most 500 characters", "message")
    monitor.last_push_at, monitor.last_push_status = now or utcnow(), status
    monitor.last_push_message = message
    session.flush()
    return monitor


def publish_change(monitor: Monitor, step: state.Step | None = None) -> None:
    """Tell subscribers (the live layer, the runner's monitor list) that a monitor changed."""
    events.publish(TOPIC, state.event_payload(monitor, step))


def publish_change_deleted(monitor_id: int | None) -> None:
    """Tell subscribers a monitor is gone (or, with None, that many changed at once)."""
    events.publish(TOPIC, {"id": monitor_id, "deleted": monitor_id is not None, "status": None})
