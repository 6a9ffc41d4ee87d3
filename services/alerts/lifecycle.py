"""Alert lifecycle: pending -> firing -> acknowledged -> resolved, evaluated on every tick.

``evaluate(session, snapshot, now)`` is pure with respect to time (tests pass a fake clock) and
only flushes; the caller commits and then calls ``announce`` so that the socket event, the
``alert.changed`` topic and the notifications happen after the data is durable.

One open alert per rule is guaranteed by a partial unique index (see ``services.alerts.models``); while it
stays open, ``last_seen_at``, ``value`` and ``worst_value`` follow the metric. A snooze silences
an alert (no bell, no notification) until it ends; when it ends on a still-firing alert the
alert "fires" again.
"""
from __future__ import annotations

import logging
import math
import operator as op
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from database import utcnow
from services.alerts.models import Alert, AlertNotification, AlertRule
from services.infra import breaker as circuit_breaker
from services.alerts.values import DbProbe, MetricContext
from services.alerts import presets
from services.alerts.rules import METRICS, OPEN_STATUSES, RuleError
from services.routing.maintenance import Muter

log = logging.getLogger(__name__)
COMPARE = {">": op.gt, ">=": op.ge, "<": op.lt, "<=": op.le}
MAX_SNOOZE_MINUTES = 7 * 24 * 60
DEFAULT_PROBE = DbProbe()


class AlertStateError(ValueError):
    """The alert cannot make that move (already resolved, not found...)."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


@dataclass
class Change:
    """Something users should hear about: ``event`` is fired|acknowledged|resolved|snoozed|unsnoozed."""

    event: str
    alert: Alert


def is_snoozed(alert: Alert, now: datetime | None = None) -> bool:
    """True while a snooze on the alert runs."""
    return alert.snoozed_until is not None and alert.snoozed_until > (now or utcnow())


def alert_to_dict(alert: Alert, now: datetime | None = None,
                  notifications: list[AlertNotification] | None = None) -> dict[str, Any]:
    """The JSON shape of an alert (``rule`` is the rule's name at the time it opened)."""
    iso = lambda t: t.isoformat() if t else None  # noqa: E731 - local formatter
    body = {
        "id": alert.id, "rule": alert.rule_name, "rule_id": alert.rule_id, "metric": alert.metric,
        "severity": alert.severity, "status": alert.status, "title": alert.title,
        "value": alert.value, "worst_value": alert.worst_value, "threshold": alert.threshold,
        "unit": METRICS[alert.metric].unit if alert.metric in METRICS else "",
        "started_at": iso(alert.started_at), "fired_at": iso(alert.fired_at),
        "last_seen_at": iso(alert.last_seen_at), "acknowledged_at": iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by, "ack_note": alert.ack_note,
        "resolved_at": iso(alert.resolved_at), "resolved_by": alert.resolved_by,
        "resolve_note": alert.resolve_note, "auto_resolved": alert.auto_resolved,
        "snoozed": is_snoozed(alert, now), "snoozed_until": iso(alert.snoozed_until)
        if is_snoozed(alert, now) else None,
        "labels": dict(alert.labels or {}), "annotations": dict(alert.annotations or {}),
        "source_key": alert.source_key,
    }
    if notifications is not None:
        body["notifications"] = [{
            "id": n.id, "channel": n.channel, "event": n.event, "status": n.status,
            "attempts": n.attempts, "last_error": n.last_error, "created_at": iso(n.created_at),
            "sent_at": iso(n.sent_at)} for n in notifications]
    return body


def open_alert(session: Session, rule_id: int) -> Alert | None:
    """The rule's open (pending, firing or acknowledged) alert, if any."""
    return session.scalar(select(Alert).where(Alert.rule_id == rule_id,
                                              Alert.status.in_(OPEN_STATUSES)))


def _worse(rule_op: str, a: float | None, b: float) -> float:
    if a is None:
        return b
    return max(a, b) if rule_op in (">", ">=") else min(a, b)


def _title(rule: AlertRule) -> str:
    subject, unit = rule.metric, METRICS[rule.metric].unit if rule.metric in METRICS else ""
    if rule.metric == "metric":  # name the catalogue metric watched, not the rule kind
        subject, unit = (rule.params or {}).get("name", subject), presets.unit_of(rule.params)
    return f"{rule.name}: {subject} {rule.operator} {rule.threshold:g}{'' if unit == 'count' else unit}"


def evaluate(session: Session, snapshot: dict[str, Any], now: datetime | None = None,
             probe: DbProbe | None = None) -> list[Change]:
    """Run every enabled rule against ``snapshot`` at ``now``; flush and return what changed."""
    now = now or utcnow()
    ctx = MetricContext(session, snapshot or {}, now, probe or DEFAULT_PROBE)
    changes: list[Change] = []
    rules = list(session.scalars(select(AlertRule)))
    opened = {a.rule_id: a for a in session.scalars(
        select(Alert).where(Alert.status.in_(OPEN_STATUSES), Alert.rule_id.is_not(None)))}
    windows = Muter(session, now)
    for rule in rules:
        alert = opened.get(rule.id)
        if alert is None and rule.enabled and windows.suppressed_by(
                {**(rule.labels or {}), "alertname": rule.name, "severity": rule.severity}):
            continue  # a "suppress" maintenance window: no alert opens until it ends
        if not rule.enabled:
            if alert is not None:
                changes += _close(session, alert, now, "rule disabled")
            continue
        try:
            value = ctx.value(rule.metric, rule.params)
        except Exception as exc:  # one broken metric must not stop the other rules
            circuit_breaker.log_failure(
                log, f"alert metric {rule.metric} (rule {rule.name!r} skipped this tick)", exc)
            continue
        changes += _expire_snooze(alert, now)
        changes += _step(session, rule, alert, value, now)
    session.flush()
    return changes


def _expire_snooze(alert: Alert | None, now: datetime) -> list[Change]:
    if alert is None or alert.snoozed_until is None or alert.snoozed_until > now:
        return []
    alert.snoozed_until = None
    return [Change("fired" if alert.status == "firing" else "unsnoozed", alert)]


def _step(session: Session, rule: AlertRule, alert: Alert | None, value: float | None,
          now: datetime) -> list[Change]:
    """Advance one rule's state machine by one observation (``None``: no data, no move;
    NaN: not applicable, which never breaches)."""
    if value is None:
        return []
    breaching = COMPARE[rule.operator](value, rule.threshold)
    if alert is None:
        if not breaching or (rule.snoozed_until is not None and rule.snoozed_until > now):
            return []
        alert = Alert(rule_id=rule.id, rule_name=rule.name, metric=rule.metric,
                      severity=rule.severity, status="pending", title=_title(rule), value=value,
                      worst_value=value, threshold=rule.threshold, started_at=now,
                      last_seen_at=now, labels=dict(rule.labels or {}),
                      annotations=dict(rule.annotations or {}))
        session.add(alert)
        session.flush()
        return _maybe_fire(rule, alert, now)
    if not breaching:
        if alert.status == "pending":
            # It never fired: nobody was told, so it leaves no history behind.
            session.delete(alert)
            return []
        alert.status, alert.resolved_at, alert.auto_resolved = "resolved", now, True
        alert.snoozed_until = None
        if not math.isnan(value):  # "not applicable" keeps the last real value on record
            alert.value = value
        return [Change("resolved", alert)]
    alert.value, alert.last_seen_at = value, now
    alert.worst_value = _worse(rule.operator, alert.worst_value, value)
    return _maybe_fire(rule, alert, now) if alert.status == "pending" else []


def _maybe_fire(rule: AlertRule, alert: Alert, now: datetime) -> list[Change]:
    if (now - alert.started_at).total_seconds() < rule.for_seconds:
        return []
    alert.status, alert.fired_at = "firing", now
    # A snoozed alert fires quietly; it is announced when the snooze ends.
    return [] if is_snoozed(alert, now) else [Change("fired", alert)]


def _close(session: Session, alert: Alert, now: datetime, note: str) -> list[Change]:
    if alert.status == "pending":
        session.delete(alert)
        return []
    alert.status, alert.resolved_at, alert.auto_resolved = "resolved", now, True
    alert.resolve_note, alert.snoozed_until = note, None
    return [Change("resolved", alert)]


def close_open_alerts(session: Session, rule: AlertRule, note: str,
                      now: datetime | None = None) -> list[Change]:
    """Resolve (or drop, when only pending) the rule's open alert; used on delete and disable."""
    alert = open_alert(session, rule.id)
    changes = _close(session, alert, now or utcnow(), note) if alert else []
    session.flush()
    return changes


def _load(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertStateError(f"alert {alert_id} does not exist", status=404)
    return alert


def _transition(session: Session, alert: Alert, allowed: tuple[str, ...], values: dict) -> Alert:
    """Conditional UPDATE: the move happens only if the status is still one of ``allowed``,
    so a tick resolving the alert at the same moment cannot be overwritten."""
    result = session.execute(update(Alert).where(Alert.id == alert.id, Alert.status.in_(allowed))
                             .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.refresh(alert)
        raise AlertStateError(f"alert {alert.id} is {alert.status}; it cannot be changed that way")
    session.refresh(alert)
    return alert


def _note(note: Any, required: bool) -> str | None:
    if note is not None and not isinstance(note, str):
        raise AlertStateError("note must be a string", status=400)
    note = (note or "").strip()
    if len(note) > 2000:
        raise AlertStateError("note must be at most 2000 characters", status=400)
    if required and not note:
        raise AlertStateError("a note is required to resolve an alert", status=400)
    return note or None


def acknowledge(session: Session, alert_id: int, actor: str, note: Any = None,
                now: datetime | None = None) -> Change:
    """Mark a firing alert as seen by ``actor`` (with an optional note)."""
    note = _note(note, required=False)
    alert = _load(session, alert_id)
    _transition(session, alert, ("firing",), {"status": "acknowledged",
                "acknowledged_at": now or utcnow(), "acknowledged_by": actor, "ack_note": note})
    return Change("acknowledged", alert)


def resolve(session: Session, alert_id: int, actor: str, note: Any,
            now: datetime | None = None) -> Change:
    """Close an open alert by hand (a note is required); resolved is final for that alert."""
    note = _note(note, required=True)
    alert = _load(session, alert_id)
    _transition(session, alert, OPEN_STATUSES, {"status": "resolved", "resolved_at": now or utcnow(),
                "resolved_by": actor, "resolve_note": note, "auto_resolved": False,
                "snoozed_until": None})
    return Change("resolved", alert)


def _snooze_until(minutes: Any, now: datetime) -> datetime | None:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= MAX_SNOOZE_MINUTES:
        raise AlertStateError(f"minutes must be an integer between 0 and {MAX_SNOOZE_MINUTES} "
                              "(0 ends the snooze)", status=400)
    return now + timedelta(minutes=minutes) if minutes else None


def snooze_alert(session: Session, alert_id: int, minutes: Any,
                 now: datetime | None = None) -> Change:
    """Silence an open alert for ``minutes`` (0 ends a snooze now)."""
    now = now or utcnow()
    until = _snooze_until(minutes, now)
    alert = _load(session, alert_id)
    was_snoozed = is_snoozed(alert, now)
    _transition(session, alert, OPEN_STATUSES, {"snoozed_until": until})
    if until:
        return Change("snoozed", alert)
    # Ending a running snooze on a firing alert brings it back, as when the snooze runs out.
    return Change("fired" if was_snoozed and alert.status == "firing" else "unsnoozed", alert)


def snooze_rule(session: Session, rule: AlertRule, minutes: Any,
                now: datetime | None = None) -> list[Change]:
    """Silence a rule for ``minutes``: no new alert opens, and its open alert is snoozed alike."""
    now = now or utcnow()
    until = _snooze_until(minutes, now)
    rule.snoozed_until = until
    rule.updated_at = now
    alert = open_alert(session, rule.id)
    changes = [snooze_alert(session, alert.id, minutes, now)] if alert else []
    session.flush()
    return changes


def firing_count(session: Session, now: datetime | None = None) -> int:
    """Alerts firing and not snoozed: the number on the bell."""
    now = now or utcnow()
    return session.scalar(select(func.count()).select_from(Alert).where(
        Alert.status == "firing",
        (Alert.snoozed_until.is_(None)) | (Alert.snoozed_until <= now))) or 0


def counts(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Open alerts by status, plus the bell's ``firing`` (unsnoozed) and ``snoozed`` counts."""
    now = now or utcnow()
    by_status = dict(session.execute(select(Alert.status, func.count()).where(
        Alert.status.in_(OPEN_STATUSES)).group_by(Alert.status)).all())
    snoozed = session.scalar(select(func.count()).select_from(Alert).where(
        Alert.status.in_(OPEN_STATUSES), Alert.snoozed_until > now)) or 0
    return {"firing": firing_count(session, now), "pending": by_status.get("pending", 0),
            "acknowledged": by_status.get("acknowledged", 0),
            "open": sum(by_status.values()), "snoozed": snoozed}


def delete_rule(session: Session, rule: AlertRule) -> list[Alert]:
    """Delete a custom rule; its open alerts are resolved first. Shipped rules can only be disabled."""
    if rule.builtin:
        raise RuleError("shipped rules cannot be deleted; disable the rule instead", conflict=True)
    closed = close_open_alerts(session, rule, "rule deleted")
    session.delete(rule)
    session.flush()
    return closed
