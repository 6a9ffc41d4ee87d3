"""What is in maintenance right now: the open alerts and the service monitors an active window
covers, each with the window and until when (None: until the window is stopped)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.alerts.labels import label_set
from services.alerts.models import Alert
from services.alerts.rules import OPEN_STATUSES
from services.checks.models import Monitor
from services.checks.state import alert_labels
from services.routing.maintenance import Muter

MAX_LISTED = 500  # each list; the page is for people, the counts say how many there are


def _entry(found: tuple, **fields: Any) -> dict[str, Any]:
    window, until = found
    return {**fields, "window": window.name, "window_id": window.id, "mode": window.mode or "mute",
            "until": until.isoformat() if until else None}


def in_maintenance(session: Session, now: datetime) -> dict[str, Any]:
    """{"alerts": [...], "monitors": [...]} covered by an active window at ``now``."""
    muter = Muter(session, now)
    if not muter.active:
        return {"alerts": [], "monitors": []}
    alerts, monitors = [], []
    for alert in session.scalars(select(Alert).where(Alert.status.in_(OPEN_STATUSES)).order_by(Alert.id)):
        found = muter.window_for(label_set(alert))
        if found and len(alerts) < MAX_LISTED:
            alerts.append(_entry(found, id=alert.id, title=alert.title, status=alert.status))
    for monitor in session.scalars(select(Monitor).order_by(Monitor.name)):
        labels = {**alert_labels(monitor), "alertname": f"monitor: {monitor.name}"[:120], "severity": "critical"}
        found = muter.window_for(labels)
        if found and len(monitors) < MAX_LISTED:
            monitors.append(_entry(found, id=monitor.id, name=monitor.name, state=monitor.state))
    return {"alerts": alerts, "monitors": monitors}
