"""What happens around an alert change: notification rows, the commit, then the announcements.

The order matters: rows are added before the commit (durable with the change); the
``alert.changed`` topic (which the live layer turns into the admins' socket event) and the
notifier only hear about committed changes. Alerts never import the live layer.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from database import utcnow
from services.alerts import notifications
from services.alerts.lifecycle import Change, alert_to_dict, evaluate, firing_count
from services.alerts.values import DbProbe
from services.infra import bus as events
from services.infra import topics
from services.routing import dispatch as routing

log = logging.getLogger(__name__)
NOTIFYING_EVENTS = ("fired", "resolved")


def prepare_notifications(app: Flask, session: Session, changes: list[Change]) -> list[int]:
    """Add notification rows for the changes that notify; returns the ids to send after the commit.

    Where each goes is the policy tree's answer (``services.routing.dispatch``): 'fired' goes to
    the channels of every matching policy (held back while muted or inhibited); 'resolved' goes
    to every channel that was told the alert fired, and nowhere else (a quietly snoozed alert
    that cleared has nothing to take back).
    """
    now = utcnow()
    ids: list[int] = []
    for change in changes:
        if change.event in NOTIFYING_EVENTS:
            ids += [row.id for row in routing.plan(app, session, change.alert, change.event, now)
                    if row.status == "queued"]
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


def catch_up(app: Flask, session: Session, now: datetime | None = None) -> list[int]:
    """Send what maintenance or an inhibition held back once it ends, and the reminders that are
    due (``repeat_interval``); committed, then queued. Returns the queued ids."""
    ids = [row.id for row in routing.catch_up(app, session, now or utcnow()) if row.status == "queued"]
    session.commit()
    notifications.enqueue(app, ids)
    return ids


def catch_up_job(app: Flask, session: Session, snapshot: dict[str, Any]) -> list[int]:
    """The periodic job (``services.live.jobs``), after each push: ``catch_up`` now."""
    return catch_up(app, session)


def _resume(app: Flask) -> None:
    try:
        notifications.resume(app)
    except Exception:  # a database hiccup must not stop the tick; the rows wait for a restart
        log.exception("could not resume pending alert notifications")
