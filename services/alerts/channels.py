"""Alert notification channels as an admin sees them, and a test message on demand.

For each channel: whether it is configured (and if not, what is missing), where it delivers
(the webhook's host only, since a webhook path often carries a secret; the SMTP server and how
many recipients), and how the latest alert notification through it went (``alert_notifications``,
written by ``services.alerts.notifications``). ``send_test`` sends one clearly marked message through a
configured channel while the admin waits, bounded by the channel's own timeout
(``ALERT_WEBHOOK_TIMEOUT``, ``SMTP_TIMEOUT``), and reports what happened.
"""
from __future__ import annotations

import time
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from services.alerts import messages
from services.alerts.messages import target  # noqa: F401 (part of this module's face)
from services.alerts.models import AlertNotification

CHANNELS = {"webhook": "Webhook", "email": "E-mail"}
# Statuses of a notification whose delivery was tried (queued/sending/skipped were not, or not yet).
TRIED = ("sent", "failed", "retrying")


class UnknownChannel(LookupError):
    """No channel has this name (answered 404)."""


class ChannelNotConfigured(ValueError):
    """The channel cannot send with this configuration (answered 409)."""


def _last_delivery(session: Session, name: str) -> dict[str, Any] | None:
    row = session.scalars(select(AlertNotification).where(
        AlertNotification.channel == name, AlertNotification.status.in_(TRIED))
        .order_by(AlertNotification.id.desc()).limit(1)).first()
    if row is None:
        return None
    return {"status": row.status, "event": row.event, "alert_id": row.alert_id, "attempts": row.attempts,
            "error": row.last_error, "created_at": row.created_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None}


def channel_states(app: Flask, session: Session) -> dict[str, Any]:
    """Every channel's state, and how many can deliver (0 means alerts reach nobody)."""
    channels = []
    for name, label in CHANNELS.items():
        problem = messages.channel_problem(app, name)
        channels.append({"name": name, "label": label, "configured": problem is None, "problem": problem,
                         "target": target(app, name), "last_delivery": _last_delivery(session, name)})
    from services.routing.contact_points import policy_routed_points

    # Contact points that notification policies send to deliver too: alerts then reach someone.
    points = policy_routed_points(session)
    return {"channels": channels, "configured": sum(c["configured"] for c in channels), "contact_points": points}


def _test_text(actor: str) -> str:
    return (f"[TEST] Alert channel test from the admin panel, sent by {actor} at "
            f"{utcnow().strftime('%Y-%m-%d %H:%M:%S')} UTC. No alert is firing; nothing to do.")


def send_test(app: Flask, name: str, actor: str) -> dict[str, Any]:
    """Send a test message through channel ``name`` now; answer whether it was delivered.

    Raises ``UnknownChannel`` or ``ChannelNotConfigured``; a failed delivery is reported in the
    answer (``delivered`` false, ``error``), never raised.
    """
    if name not in CHANNELS:
        raise UnknownChannel(f"unknown channel {name!r}; the channels are {', '.join(CHANNELS)}")
    problem = messages.channel_problem(app, name)
    if problem:
        raise ChannelNotConfigured(f"the {name} channel is not configured: {problem}")
    text = _test_text(actor)
    started = time.perf_counter()
    error = None
    try:
        if name == "webhook":
            messages.post_webhook(app, {"text": text, "event": "test", "alert": None})
        else:
            messages.send_mail(app, "[TEST] Admin panel alert channel test", text)
    except Exception as exc:  # any failure of the channel is the answer, not an error of ours
        error = f"{type(exc).__name__}: {exc}"[:1000]
    return {"channel": name, "delivered": error is None, "error": error, "at": utcnow().isoformat(),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
