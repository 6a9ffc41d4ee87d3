"""The monitor state machine and its alerts.

pending → up on the first success (nothing was alerted yet); up/pending → down after
``failure_threshold`` failures in a row; down → up after ``recovery_threshold`` successes in a
row. A monitor that is up but failing (fewer failures than the threshold) shows as
"degraded". Going down raises a critical alert through the alerts lifecycle (rule-less, like a
pushed alert: ``metric = monitor_up``) unless the parent (or any ancestor) is down: then the
child is down quietly, and alerts once its parent is up again while it is still down.
Going up resolves the monitor's open alert.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.alerts.models import Alert
from services.alerts.rules import OPEN_STATUSES
from services.alerts.lifecycle import Change
from services.checks.kinds import Outcome
from services.checks.models import Monitor, MonitorEvent
from services.routing.maintenance import Muter

MAX_DEPTH = 20  # parents are followed this far (a cycle is refused on save; this is a backstop)


@dataclass
class Step:
    """What one result did: the state change (if any) and the alert changes to announce."""

    changed: bool = False
    from_state: str | None = None
    changes: list[Change] = field(default_factory=list)


def display_status(monitor: Monitor) -> str:
    """What the Services page shows: paused, down, degraded, up or pending."""
    if monitor.paused:
        return "paused"
    if monitor.state == "up" and monitor.consecutive_failures > 0:
        return "degraded"
    return monitor.state


def ancestor_down(session: Session, monitor: Monitor) -> Monitor | None:
    """The nearest parent (or grandparent...) that is down and not paused, if any."""
    seen, parent_id = {monitor.id}, monitor.parent_id
    for _ in range(MAX_DEPTH):
        if parent_id is None or parent_id in seen:
            return None
        parent = session.get(Monitor, parent_id)
        if parent is None:
            return None
        if parent.state == "down" and not parent.paused:
            return parent
        seen.add(parent_id)
        parent_id = parent.parent_id
    return None


def alert_title(monitor: Monitor) -> str:
    """The alert's title: the monitor, its labels and the last error (fits the 255 column)."""
    labels = ", ".join(f"{k}={v}" for k, v in sorted((monitor.labels or {}).items()))
    title = f"Monitor {monitor.name} is down" + (f" ({labels})" if labels else "")
    if monitor.last_error:
        title += f": {monitor.last_error}"
    return title[:255]


def alert_labels(monitor: Monitor) -> dict[str, str]:
    """A monitor's alert carries its labels and which monitor it is, for routing and maintenance."""
    return {**(monitor.labels or {}), "monitor": monitor.name, "monitor_id": str(monitor.id)}


def _raise_alert(session: Session, monitor: Monitor, now: datetime) -> Change:
    alert = Alert(labels=alert_labels(monitor), annotations={}, rule_id=None, rule_name=f"monitor: {monitor.name}"[:120], metric="monitor_up",
                  severity="critical", status="firing", title=alert_title(monitor), value=0.0,
                  worst_value=0.0, threshold=1.0, started_at=monitor.state_since, fired_at=now,
                  last_seen_at=now)
    session.add(alert)
    session.flush()
    monitor.alert_id = alert.id
    return Change("fired", alert)


def resolve_alert(session: Session, monitor: Monitor, now: datetime, note: str | None = None
                  ) -> list[Change]:
    """Resolve the monitor's open alert (recovery, pause or deletion); none left open after."""
    if monitor.alert_id is None:
        return []
    alert = session.get(Alert, monitor.alert_id)
    monitor.alert_id = None
    if alert is None or alert.status not in OPEN_STATUSES:
        return []  # resolved by hand already
    alert.status, alert.resolved_at, alert.auto_resolved = "resolved", now, True
    alert.value, alert.last_seen_at, alert.snoozed_until = 1.0, now, None
    if note:
        alert.resolve_note = note
    return [Change("resolved", alert)]


def advance(monitor: Any, outcome: Outcome, now: datetime) -> tuple[dict[str, Any], str | None]:
    """The columns one result sets on ``monitor`` (a model or a row of its columns), and the
    state the thresholds move it to (None: no threshold reached). Changes nothing."""
    values: dict[str, Any] = {"last_checked_at": now, "last_ok": outcome.ok,
                              "last_latency_ms": outcome.latency_ms,
                              "last_detail": outcome.detail or None}
    if outcome.ok:
        successes = monitor.consecutive_successes + 1
        values.update(consecutive_successes=successes, consecutive_failures=0)
        target = "up" if monitor.state == "pending" or successes >= monitor.recovery_threshold else None
    else:
        failures = monitor.consecutive_failures + 1
        values.update(consecutive_failures=failures, consecutive_successes=0,
                      last_error=outcome.error, last_error_at=now)
        target = "down" if failures >= monitor.failure_threshold else None
    return values, target


def is_quiet(monitor: Any, target: str | None) -> bool:
    """True when a result that reached ``target`` only updates the monitor's columns: no state
    change, and the monitor is not down (a down monitor may open its alert or touch it)."""
    return target in (None, monitor.state) and monitor.state != "down"


def apply(session: Session, monitor: Monitor, outcome: Outcome, now: datetime) -> Step:
    """Advance ``monitor`` by one result (flushes; the caller commits and announces)."""
    step = Step(from_state=monitor.state)
    values, target = advance(monitor, outcome, now)
    for column, value in values.items():
        setattr(monitor, column, value)
    if target and target != monitor.state:
        step.changed = True
        monitor.state, monitor.state_since = target, now
        if target == "up":
            step.changes += resolve_alert(session, monitor, now)
    parent_down = ancestor_down(session, monitor) if monitor.state == "down" else None
    if monitor.state == "down" and monitor.alert_id is None and parent_down is None and not Muter(
            session, now).suppressed_by({**alert_labels(monitor), "alertname": f"monitor: {monitor.name}"[:120],
                                         "severity": "critical"}):
        # A "suppress" maintenance window keeps the alert from opening; a later result opens it
        # if the monitor is still down once the window is over.
        step.changes.append(_raise_alert(session, monitor, now))
    elif monitor.state == "down" and monitor.alert_id is not None:
        alert = session.get(Alert, monitor.alert_id)
        if alert is not None and alert.status in OPEN_STATUSES:
            alert.last_seen_at = now
    if step.changed:
        session.add(MonitorEvent(monitor_id=monitor.id, at=now, from_state=step.from_state,
                                 to_state=monitor.state,
                                 error=(monitor.last_error or "")[:500] if target == "down" else None,
                                 alerted=any(c.event == "fired" for c in step.changes)))
    session.flush()
    return step


def event_payload(monitor: Monitor, step: Step | None = None) -> dict[str, Any]:
    """The ``monitor`` socket event: enough for a page to update its row without a fetch."""
    iso = lambda t: t.isoformat() if t else None  # noqa: E731 - local formatter
    return {"id": monitor.id, "name": monitor.name, "status": display_status(monitor),
            "state": monitor.state, "state_since": iso(monitor.state_since),
            "previous": step.from_state if step else None,
            "last_checked_at": iso(monitor.last_checked_at), "last_error": monitor.last_error,
            "last_latency_ms": monitor.last_latency_ms, "paused": monitor.paused}
