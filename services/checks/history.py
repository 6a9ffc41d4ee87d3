"""When monitors were down: windows rebuilt from their state changes (for the Overview timeline)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.checks.models import Monitor, MonitorEvent


def down_windows(session: Session, start: datetime, end: datetime, now: datetime) -> list[dict[str, Any]]:
    """Each time a monitor was down that overlaps [start, end), oldest first.

    A window runs from the change into ``down`` to the next change out of it (or ``now`` while
    the monitor is still down). Windows that began before ``start`` are found from the monitor's
    last change before it, so a long outage is not cut at the left edge.
    """
    names = dict(session.execute(select(Monitor.id, Monitor.name)).all())
    opened: dict[int, datetime] = {}
    for mid, at, to_state in session.execute(
            select(MonitorEvent.monitor_id, MonitorEvent.at, MonitorEvent.to_state)
            .where(MonitorEvent.at < start).order_by(MonitorEvent.at, MonitorEvent.id)):
        if to_state == "down":
            opened[mid] = at
        else:
            opened.pop(mid, None)
    out: list[dict[str, Any]] = []
    for mid, at, to_state in session.execute(
            select(MonitorEvent.monitor_id, MonitorEvent.at, MonitorEvent.to_state)
            .where(MonitorEvent.at >= start, MonitorEvent.at < end)
            .order_by(MonitorEvent.at, MonitorEvent.id)):
        if to_state == "down":
            opened.setdefault(mid, at)
        elif mid in opened:
            out.append(_window(mid, names, opened.pop(mid), at, False))
    out.extend(_window(mid, names, began, now, True) for mid, began in opened.items())
    return sorted((w for w in out if w["monitor_id"] in names), key=lambda w: (w["started_at"], w["monitor_id"]))


def _window(mid: int, names: dict[int, str], began: datetime, ended: datetime, still_open: bool) -> dict:
    return {"monitor_id": mid, "monitor": names.get(mid), "started_at": began, "ended_at": ended,
            "open": still_open}
