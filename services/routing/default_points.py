"""The two default contact points, ``webhook`` and ``email``: the settings as stored rows.

Before contact points existed, alerts went to ``ALERT_WEBHOOK_URL`` and to ``SMTP_TO``; revision
0011 stored those two destinations as contact points named ``webhook`` and ``email`` (the names
rules list in ``channels``), and every start creates them when missing. While their ``source``
is ``settings`` they follow the settings: each start copies the current values in, so a
deployment driven by its environment keeps working unchanged. Once an admin edits one on the
Notifications page it keeps what was saved (``source`` ``page``) until it is set back to follow
the settings. Their notifications keep the channel names they always had (``webhook``,
``email``), so their delivery history reads on without a gap.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from database import utcnow
from services.routing.models import ContactPoint

log = logging.getLogger(__name__)

NAMES = ("webhook", "email")
SETTING = {"webhook": "ALERT_WEBHOOK_URL", "email": "SMTP_TO"}


def from_settings(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each default contact point's kind, URL and recipients as the settings give them."""
    url = str(config.get("ALERT_WEBHOOK_URL") or "").strip() or None
    to = [a.strip() for a in str(config.get("SMTP_TO") or "").split(",") if a.strip()]
    return {"webhook": {"kind": "webhook", "url": url, "addresses": []},
            "email": {"kind": "email", "url": None, "addresses": to}}


def follow(point: ContactPoint, config: Mapping[str, Any]) -> bool:
    """Give a default contact point the settings' values and mark it as following them; True if
    anything changed."""
    values = from_settings(config)[point.name]
    changed = (point.url, list(point.addresses or []), point.source) != (values["url"], values["addresses"],
                                                                       "settings")
    if changed:
        point.url, point.addresses, point.source, point.updated_at = (values["url"], values["addresses"],
                                                                      "settings", utcnow())
    return changed


def sync(app: Flask, session: Session) -> None:
    """Create the default contact points if missing; those following the settings take their
    current values (committed by the caller)."""
    have = {p.name: p for p in session.scalars(select(ContactPoint).where(ContactPoint.name.in_(NAMES)))}
    values = from_settings(app.config)
    for name in NAMES:
        point = have.get(name)
        if point is None:
            now = utcnow()
            session.add(ContactPoint(name=name, source="settings", created_at=now, updated_at=now, **values[name]))
        elif point.source == "settings":
            follow(point, app.config)
    try:
        session.flush()
    except IntegrityError:  # another process starting at the same moment created them
        session.rollback()
        log.info("default contact points were created by another process")


def problem(app: Flask, point: ContactPoint) -> str | None:
    """Why ``point`` cannot deliver now, naming the setting to fix; None when it can."""
    settings = point.source == "settings"
    if point.kind == "webhook":
        return None if point.url else ("ALERT_WEBHOOK_URL is not set" if settings else "no URL is set")
    missing = [] if app.config.get("SMTP_HOST") else ["SMTP_HOST"]
    if not point.addresses:
        missing.append("SMTP_TO" if settings else "recipients")
    if not missing:
        return None
    return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
