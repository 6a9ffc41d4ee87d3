"""Alert notification channels as an admin sees them, and a test message on demand.

The channels rules name, ``webhook`` and ``email``, are the two default contact points
(``services.routing.default_points``). For each: whether it can deliver (and if not, what is
missing), where it delivers (the webhook's host only, since a webhook path often carries a
secret; the SMTP server and how many recipients), and how the latest alert notification through
it went (``alert_notifications``). ``send_test`` sends one clearly marked message through it
while the admin waits, bounded by the channel's own timeout (``ALERT_WEBHOOK_TIMEOUT``,
``SMTP_TIMEOUT``), and reports what happened.
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from services.alerts import messages
from services.routing import contact_points, delivery

CHANNELS = {"webhook": "Webhook", "email": "E-mail"}


class UnknownChannel(LookupError):
    """No channel has this name (answered 404)."""


class ChannelNotConfigured(ValueError):
    """The channel cannot send with this configuration (answered 409)."""


def channel_states(app: Flask, session: Session) -> dict[str, Any]:
    """Every channel's state, and how many can deliver (0 means alerts reach nobody)."""
    channels = []
    for name, label in CHANNELS.items():
        point = contact_points.point_of(session, name)
        problem = delivery.point_problem(app, point, name)
        channels.append({"name": name, "label": label, "configured": problem is None, "problem": problem,
                         "target": messages.target(app, point.kind, point.url, list(point.addresses or []))
                         if point else None,
                         "source": point.source if point else None, "id": point.id if point else None,
                         "last_delivery": contact_points.last_delivery(session, name)})
    # Contact points that notification policies send to deliver too: alerts then reach someone.
    points = contact_points.policy_routed_points(session)
    return {"channels": channels, "configured": sum(c["configured"] for c in channels), "contact_points": points}


def send_test(app: Flask, session: Session, name: str, actor: str) -> dict[str, Any]:
    """Send a test message through channel ``name`` now; answer whether it was delivered.

    Raises ``UnknownChannel`` or ``ChannelNotConfigured``; a failed delivery is reported in the
    answer (``delivered`` false, ``error``), never raised.
    """
    if name not in CHANNELS:
        raise UnknownChannel(f"unknown channel {name!r}; the channels are {', '.join(CHANNELS)}")
    problem = delivery.problem_of(app, session, name)
    if problem:
        raise ChannelNotConfigured(f"the {name} channel is not configured: {problem}")
    return {"channel": name, **delivery.timed_test(app, delivery.target_of(app, session, name), actor)}
