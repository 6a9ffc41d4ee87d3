"""Notification rows for alert changes, as the policy tree, inhibition and maintenance decide.

``plan`` writes the rows of one change (in the change's transaction): for "fired", one row per
channel of every matching policy, each due after its group's wait (or the rest of its group
interval), or a ``muted`` / ``inhibited`` row that records why nothing was sent. For "resolved",
one row per channel that was notified of the alert before, whatever routing, inhibition or
maintenance say now: a resolved notice is never lost. ``catch_up`` (every tick) sends what a
window or an inhibition held back once it ends, and ``repeat_interval`` reminders while an
alert stays firing and unacknowledged. Rows sharing a ``group_key`` and channel that are due
together go out as one message (``services.alerts.notifications``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.alerts.models import Alert, AlertNotification, AlertRule
from services.alerts.labels import label_set
from services.routing import policy
from services.routing.contact_points import BUILTIN
from services.routing.inhibition import Inhibitor
from services.routing.maintenance import Muter

HELD = ("muted", "inhibited")
# What counts as "the channel was told the alert fires": sent, or on its way.
TOLD = ("sent", "queued", "sending", "retrying", "failed")
FIRING_EVENTS = ("fired", "reminder")


def _rule_channels(session: Session, alert: Alert) -> list[str]:
    rule = session.get(AlertRule, alert.rule_id) if alert.rule_id else None
    return list(rule.channels or []) if rule else list(BUILTIN)


def _due(session: Session, channel: str, key: str, route: policy.Route, now: datetime) -> datetime:
    """When a new row of this group is due: with the rows already waiting, else after the group's
    wait (a new group) or the rest of its interval (a group that sent recently)."""
    waiting = session.scalar(select(func.min(AlertNotification.next_attempt_at)).where(
        AlertNotification.channel == channel, AlertNotification.group_key == key,
        AlertNotification.status == "queued", AlertNotification.next_attempt_at.is_not(None)))
    if waiting is not None:
        return max(waiting, now)
    last = session.scalar(select(func.max(AlertNotification.sent_at)).where(
        AlertNotification.channel == channel, AlertNotification.group_key == key,
        AlertNotification.status == "sent"))
    if last is not None and route.group_interval:
        return max(now, last + timedelta(seconds=route.group_interval))
    return now + timedelta(seconds=route.group_wait)


def _row(app: Flask, session: Session, alert: Alert, event: str, channel: str, key: str | None,
         held: str | None, due: datetime, now: datetime) -> AlertNotification:
    from services.routing.delivery import problem_of

    problem = problem_of(app, session, channel)
    status = held.split(":", 1)[0] if held else "skipped" if problem else "queued"
    row = AlertNotification(alert_id=alert.id, channel=channel, event=event, status=status, attempts=0,
                            last_error=held.split(":", 1)[1] if held else problem, created_at=now,
                            group_key=key, next_attempt_at=due if status == "queued" and due > now else None)
    session.add(row)
    return row


def held_reason(alert: Alert, labels: dict[str, str], muter: Muter, inhibitor: Inhibitor) -> str | None:
    """"muted:<why>" or "inhibited:<why>" when the alert must not notify now."""
    window = muter.muted_by(labels)
    if window:
        return f"muted:muted by maintenance window {window}"
    source = inhibitor.inhibited_by(alert, labels)
    return f"inhibited:inhibited by {source}" if source else None


def plan(app: Flask, session: Session, alert: Alert, event: str, now: datetime,
         muter: Muter | None = None, inhibitor: Inhibitor | None = None) -> list[AlertNotification]:
    """Add the rows of one change ("fired" or "resolved"); flushed, not committed."""
    rows: list[AlertNotification] = []
    if event == "resolved":
        told = session.execute(select(AlertNotification.channel, AlertNotification.group_key).where(
            AlertNotification.alert_id == alert.id, AlertNotification.event.in_(FIRING_EVENTS),
            AlertNotification.status.in_(TOLD)).order_by(AlertNotification.id)).all()
        for channel, key in dict(told).items():
            resolved_key = key.replace("|fired|", "|resolved|", 1) if key else None
            rows.append(_row(app, session, alert, event, channel, resolved_key, None, now, now))
    else:
        labels = label_set(alert)
        held = held_reason(alert, labels, muter or Muter(session, now), inhibitor or Inhibitor(session))
        seen: set[str] = set()
        for route in policy.route(session, app.config, labels, _rule_channels(session, alert)):
            for channel in route.channels:
                if channel in seen:
                    continue
                seen.add(channel)
                key = route.group_key(event, labels, alert.id)
                due = _due(session, channel, key, route, now)
                rows.append(_row(app, session, alert, event, channel, key, held, due, now))
    session.flush()
    return rows


def catch_up(app: Flask, session: Session, now: datetime) -> list[AlertNotification]:
    """Rows for firing alerts whose hold ended (maintenance over, inhibitor gone) and reminders
    after ``repeat_interval``; flushed, not committed."""
    alerts = list(session.scalars(select(Alert).where(Alert.status == "firing")))
    if not alerts:
        return []
    muter, inhibitor = Muter(session, now), Inhibitor(session)
    rows: list[AlertNotification] = []
    for alert in alerts:
        if alert.snoozed_until is not None and alert.snoozed_until > now:
            continue
        latest: dict[str, AlertNotification] = {}
        for row in session.scalars(select(AlertNotification).where(
                AlertNotification.alert_id == alert.id, AlertNotification.event.in_(FIRING_EVENTS))
                .order_by(AlertNotification.id)):
            latest[row.channel] = row
        if not latest:
            continue
        labels = label_set(alert)
        if held_reason(alert, labels, muter, inhibitor):
            continue
        if any(r.status in HELD for r in latest.values()):
            rows += plan(app, session, alert, "fired", now, muter, inhibitor)
            continue
        for route in policy.route(session, app.config, labels, _rule_channels(session, alert)):
            for channel in route.channels:
                last = latest.get(channel)
                # Counted from when the last notice was planned (the tick's clock, like ``now``).
                if (route.repeat_interval and last is not None and last.status == "sent"
                        and last.created_at + timedelta(seconds=route.repeat_interval) <= now):
                    key = route.group_key("reminder", labels, alert.id)
                    latest[channel] = _row(app, session, alert, "reminder", channel, key, None,
                                           _due(session, channel, key, route, now), now)
                    rows.append(latest[channel])
    session.flush()
    return rows


def marks(session: Session, alerts: list[Alert], now: datetime) -> dict[int, dict[str, Any]]:
    """For open alerts: {id: {"muted_by": window or None, "inhibited_by": title or None}}."""
    open_ones = [a for a in alerts if a.status != "resolved"]
    if not open_ones:
        return {}
    muter, inhibitor = Muter(session, now), Inhibitor(session)
    out = {}
    for alert in open_ones:
        labels = label_set(alert)
        out[alert.id] = {"muted_by": muter.muted_by(labels), "inhibited_by": inhibitor.inhibited_by(alert, labels)}
    return out


def name_channels(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    """Give each notification of an alert's details the name of its contact point."""
    from services.routing.contact_points import channels_by_name

    names = {channel: name for name, channel in channels_by_name(session).items()}
    for n in body.get("notifications") or []:
        n["contact_point"] = names.get(n["channel"], n["channel"])
    return body


def alert_dicts(session: Session, rows: list[Alert], now: datetime) -> list[dict[str, Any]]:
    """Alerts as the API shows them, open ones marked ``muted_by`` / ``inhibited_by``."""
    from services.alerts.lifecycle import alert_to_dict

    held = marks(session, rows, now)
    return [{**alert_to_dict(a, now), "muted_by": None, "inhibited_by": None, **held.get(a.id, {})}
            for a in rows]
