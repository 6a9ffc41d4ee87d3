"""What happens around an alert change: notification rows, the commit, then the announcements.

The order matters: rows are added before the commit (durable with the change); the socket
event, the ``alert.changed`` topic and the notifier only hear about committed changes.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from database import utcnow
from services import events
from services.alert_metrics import DbProbe
from services.alerts import Change, alert_to_dict, evaluate, firing_count

log = logging.getLogger(__name__)
NOTIFYING_EVENTS = ("fired", "resolved")


def prepare_notifications(app: Flask, session: Session, changes: list[Change]) -> list[int]:
    """Add notification rows for the changes that notify; returns the ids to send after the commit.

    Where each goes is the policy tree's answer (``services.routing.dispatch``): 'fired' goes to
    the channels of every matching policy (held back while muted or inhibited); 'resolved' goes
    to every channel that was told the alert fired, and nowhere else (a quietly snoozed alert
    that cleared has nothing to take back).
    """
    from services.routing import dispatch

    now = utcnow()
    ids: list[int] = []
    for change in changes:
        if change.event in NOTIFYING_EVENTS:
            ids += [row.id for row in dispatch.plan(app, session, change.alert, change.event, now)
                    if row.status == "queued"]
    return ids


def commit_and_announce(app: Flask, session: Session, changes: list[Change]) -> None:
    """Add the notification rows, commit, then announce: the one way every change is finished."""
    ids = prepare_notifications(app, session, changes)
    session.commit()
    announce(app, session, changes, ids)


def announce(app: Flask, session: Session, changes: list[Change], notification_ids: list[int]) -> None:
    """After the commit: tell the admins' sockets, the in-process topic and the notifier."""
    from services import notifications

    if changes:
        now = utcnow()
        count = firing_count(session, now)
        for change in changes:
            payload = {"event": change.event, "alert": alert_to_dict(change.alert, now),
                       "firing": count}
            events.publish("alert.changed", payload)
            _emit(payload)
    if notification_ids:
        notifications.enqueue(app, notification_ids)


def _emit(payload: dict[str, Any]) -> None:
    try:
        from services import live
    except ImportError:  # the lifecycle works without the live layer (e.g. a trimmed install)
        log.debug("services.live is not available; alert event not emitted")
        return
    try:
        live.emit_to_admins("alert", payload)
    except Exception:  # a socket problem must not undo a committed alert change
        log.exception("could not emit the alert event to admins")


def probe(app: Flask) -> DbProbe:
    """The app's database probe (failures are remembered between ticks)."""
    return app.extensions.setdefault("alert_probe", DbProbe())


def on_tick(app: Flask, session: Session, snapshot: dict[str, Any]) -> list[Change]:
    """The scheduler hook: evaluate every rule on this tick's snapshot, commit, announce."""
    if not app.extensions.get("alert_notifications_resumed"):
        # Only the process that runs the scheduler picks up what a stopped one left unsent
        # (not every CLI command or idle worker).
        app.extensions["alert_notifications_resumed"] = True
        _resume(app)
    changes = evaluate(session, snapshot, utcnow(), probe(app))
    commit_and_announce(app, session, changes)
    catch_up(app, session)
    return changes


def catch_up(app: Flask, session: Session, now: datetime | None = None) -> list[int]:
    """Send what maintenance or an inhibition held back once it ends, and the reminders that are
    due (``repeat_interval``); committed, then queued. Returns the queued ids."""
    from services import notifications
    from services.routing import dispatch

    ids = [row.id for row in dispatch.catch_up(app, session, now or utcnow()) if row.status == "queued"]
    session.commit()
    notifications.enqueue(app, ids)
    return ids


def _resume(app: Flask) -> None:
    from services import notifications

    try:
        notifications.resume(app)
    except Exception:  # a database hiccup must not stop the tick; the rows wait for a restart
        log.exception("could not resume pending alert notifications")


def init_app(app: Flask) -> None:
    """Register the tick hook (unsent notifications are resumed on the first tick)."""
    try:
        from services import live
    except ImportError:
        log.warning("services.live is not available: alert rules are not evaluated on ticks")
    else:
        live.register_tick_hook(on_tick)
