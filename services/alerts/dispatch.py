"""What happens around an alert change: notification rows, the commit, then the announcements.

The order matters: rows are added before the commit (durable with the change); the
``alert.changed`` topic (which the live layer turns into the admins' socket event) and the
notifier only hear about committed changes. Alerts never import the live layer.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from database import utcnow
from services.alerts.models import AlertNotification, AlertRule
from services.infra import bus as events
from services.infra import topics
from services.alerts import notifications
from services.alerts.lifecycle import Change, alert_to_dict, evaluate, firing_count
from services.alerts.values import DbProbe

log = logging.getLogger(__name__)
NOTIFYING_EVENTS = ("fired", "resolved")


def was_announced(session: Session, alert_id: int) -> bool:
    """True once a 'fired' notification was queued for the alert (so a 'resolved' one makes sense)."""
    return bool(session.scalar(select(exists().where(AlertNotification.alert_id == alert_id,
                                                     AlertNotification.event == "fired"))))


def prepare_notifications(app: Flask, session: Session, changes: list[Change]) -> list[int]:
    """Add notification rows for the changes that notify; returns the ids to send after the commit.

    'fired' always notifies; 'resolved' only when a 'fired' went out before (a quietly snoozed
    alert that cleared has nothing to take back).
    """
    ids: list[int] = []
    for change in changes:
        alert = change.alert
        if change.event not in NOTIFYING_EVENTS:
            continue
        if change.event == "resolved" and not was_announced(session, alert.id):
            continue
        rule = session.get(AlertRule, alert.rule_id) if alert.rule_id else None
        channels = list(rule.channels or []) if rule else ["webhook", "email"]
        ids += notifications.create_rows(app, session, alert, change.event, channels)
    return ids


def commit_and_announce(app: Flask, session: Session, changes: list[Change]) -> None:
    """Add the notification rows, commit, then announce: the one way every change is finished."""
    ids = prepare_notifications(app, session, changes)
    session.commit()
    announce(app, session, changes, ids)


def announce(app: Flask, session: Session, changes: list[Change], notification_ids: list[int]) -> None:
    """After the commit: publish each change on the bus (the live layer emits it), wake the notifier."""
    if changes:
        now = utcnow()
        count = firing_count(session, now)
        for change in changes:
            payload = {"event": change.event, "alert": alert_to_dict(change.alert, now),
                       "firing": count}
            events.publish(topics.ALERT_CHANGED, payload)
    if notification_ids:
        notifications.enqueue(app, notification_ids)


def probe(app: Flask) -> DbProbe:
    """The app's database probe (failures are remembered between ticks)."""
    return app.extensions.setdefault("alert_probe", DbProbe())


def on_tick(app: Flask, session: Session, snapshot: dict[str, Any]) -> list[Change]:
    """The periodic job (``services.live.jobs``): evaluate the rules on the pushed snapshot."""
    if not app.extensions.get("alert_notifications_resumed"):
        # Only the process that runs the scheduler picks up what a stopped one left unsent
        # (not every CLI command or idle worker).
        app.extensions["alert_notifications_resumed"] = True
        _resume(app)
    changes = evaluate(session, snapshot, utcnow(), probe(app))
    commit_and_announce(app, session, changes)
    return changes


def _resume(app: Flask) -> None:
    try:
        notifications.resume(app)
    except Exception:  # a database hiccup must not stop the tick; the rows wait for a restart
        log.exception("could not resume pending alert notifications")
