"""Contact points: named webhook URLs (Slack-compatible JSON) and e-mail recipient lists.

Two always exist: ``webhook`` and ``email``, the destinations of the settings stored as rows
(``services.routing.default_points``), which rules name in their ``channels``; they can be edited
and tested but not renamed or deleted. Every other contact point is notified as channel
``cp:<id>`` in ``alert_notifications``; e-mail ones go through the same SMTP server.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from services.alerts.models import AlertNotification
from services.infra.input_checks import InputError, has_control
from services.routing import default_points
from services.routing.models import ContactPoint, NotificationPolicy

BUILTIN = default_points.NAMES
KINDS = ("webhook", "email")
MAX_ADDRESSES = 50
EMAIL = re.compile(r"[^@\s,<>]{1,64}@[A-Za-z0-9.-]{1,255}")
TRIED = ("sent", "failed", "retrying")


class ContactPointError(InputError):
    """Refused contact point input (400 naming the field), 404 or 409."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        code = {404: "not_found", 409: "conflict"}.get(status, "invalid_contact_point")
        super().__init__(message, field, code, status)


def channel_of(point: ContactPoint) -> str:
    """The ``alert_notifications.channel`` of a contact point (a default one keeps its name)."""
    return point.name if point.name in BUILTIN else f"cp:{point.id}"


def point_of(session: Session, channel: str) -> ContactPoint | None:
    """The contact point notified as ``channel`` (None once deleted)."""
    if channel in BUILTIN:
        return session.scalar(select(ContactPoint).where(ContactPoint.name == channel))
    if channel.startswith("cp:") and channel[3:].isdigit():
        point = session.get(ContactPoint, int(channel[3:]))
        return point if point is not None and point.name not in BUILTIN else None
    return None


def _url(raw: Any) -> str:
    if not isinstance(raw, str) or len(raw) > 2000 or has_control(raw) or " " in raw:
        raise ContactPointError("url must be an http:// or https:// URL", "url")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ContactPointError("url must be an http:// or https:// URL", "url")
    return raw


def _addresses(raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = [a.strip() for a in raw.split(",") if a.strip()]
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ADDRESSES:
        raise ContactPointError(f"addresses must list 1 to {MAX_ADDRESSES} e-mail addresses", "addresses")
    for a in raw:
        if not isinstance(a, str) or not EMAIL.fullmatch(a.strip()):
            raise ContactPointError(f"addresses: {str(a)[:80]!r} is not an e-mail address", "addresses")
    return [a.strip() for a in raw]


def validate(payload: dict[str, Any], current: ContactPoint | None = None) -> dict[str, Any]:
    """Clean fields of a contact point (PUT may leave some out)."""
    unknown = set(payload) - {"name", "kind", "url", "addresses", "id", "builtin", "channel", "last_delivery",
                              "source"}
    if unknown:
        raise ContactPointError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}", "body")
    default = current is not None and current.name in BUILTIN
    clean: dict[str, Any] = {}
    if "name" in payload or current is None:
        name = payload.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 80 or has_control(name):
            raise ContactPointError("name must be one line of 1 to 80 characters", "name")
        if name.strip().lower() in BUILTIN and (current is None or name.strip() != current.name):
            raise ContactPointError(f"{name.strip()!r} is the name of a default contact point", "name", 409)
        if default and name.strip() != current.name:
            raise ContactPointError(f"the default contact point {current.name!r} cannot be renamed: rules "
                                    "send to it by name", "name", 409)
        clean["name"] = name.strip()
    kind = payload.get("kind", current.kind if current else None)
    if kind not in KINDS:
        raise ContactPointError("kind must be webhook or email", "kind")
    if default and kind != current.kind:
        raise ContactPointError(f"the default contact point {current.name!r} stays of kind {current.kind}", "kind")
    clean["kind"] = kind
    source = payload.get("source", "page")
    if source not in ("page", "settings") or (source == "settings" and not default):
        raise ContactPointError("source may be \"settings\" only for the default contact points "
                                "(webhook, email), to follow the settings again", "source")
    if source == "settings":
        return {"source": "settings"}
    if default and not ({"url", "addresses"} & set(payload)):
        return clean  # a name-only save keeps following the settings if it did
    clean["source"] = "page"
    if kind == "webhook":
        clean["url"], clean["addresses"] = _url(payload.get("url", current.url if current else None)), []
    else:
        clean["addresses"], clean["url"] = _addresses(
            payload.get("addresses", current.addresses if current else None)), None
    return clean


def get(session: Session, point_id: int) -> ContactPoint:
    """One stored contact point (404 otherwise)."""
    point = session.get(ContactPoint, point_id)
    if point is None:
        raise ContactPointError(f"contact point {point_id} does not exist", "id", 404)
    return point


def _name_free(session: Session, name: str, point_id: int | None = None) -> None:
    other = session.scalar(select(ContactPoint).where(ContactPoint.name == name))
    if other is not None and other.id != point_id:
        raise ContactPointError(f"a contact point named {name!r} exists", "name", 409)


def create(session: Session, payload: dict[str, Any]) -> ContactPoint:
    """Add a contact point (flushed)."""
    clean = validate(payload)
    _name_free(session, clean["name"])
    point = ContactPoint(**clean, created_at=utcnow(), updated_at=utcnow())
    session.add(point)
    session.flush()
    return point


def update(session: Session, point_id: int, payload: dict[str, Any],
           config: dict[str, Any] | None = None) -> ContactPoint:
    """Change a contact point; policies name it, so a rename is refused while one uses it. A
    default one given a URL or recipients keeps them instead of the settings'; ``"source":
    "settings"`` makes it follow ``config``'s settings again."""
    point = get(session, point_id)
    clean = validate(payload, point)
    if "name" in clean and clean["name"] != point.name:
        _name_free(session, clean["name"], point.id)
        _not_in_use(session, point, "renamed")
    if clean.pop("source", None) == "settings":
        default_points.follow(point, config or {})
    elif "url" in clean or "addresses" in clean:
        point.source = "page"
    for key, value in clean.items():
        setattr(point, key, value)
    point.updated_at = utcnow()
    session.flush()
    return point


def _not_in_use(session: Session, point: ContactPoint, verb: str) -> None:
    users = [p.name or f"#{p.id}" for p in session.scalars(select(NotificationPolicy))
             if point.name in (p.contact_points or [])]
    if users:
        raise ContactPointError(f"contact point {point.name!r} cannot be {verb}: policies "
                                f"{', '.join(users)[:200]} send to it", "id", 409)


def delete(session: Session, point_id: int) -> None:
    """Remove a contact point no policy sends to (never a default one: rules name those)."""
    point = get(session, point_id)
    if point.name in BUILTIN:
        raise ContactPointError(f"the default contact point {point.name!r} cannot be deleted: rules send to "
                                "it by name (take it out of their channels instead)", "id", 409)
    _not_in_use(session, point, "deleted")
    session.delete(point)
    session.flush()


def channels_by_name(session: Session) -> dict[str, str]:
    """Every contact point name -> its channel."""
    names = {name: name for name in BUILTIN}
    names.update({p.name: channel_of(p) for p in session.scalars(select(ContactPoint))})
    return names


def policy_routed_points(session: Session) -> int:
    """How many contact points other than the defaults some notification policy sends to."""
    stored = {p.name for p in session.scalars(select(ContactPoint)) if p.name not in BUILTIN}
    used = {n for p in session.scalars(select(NotificationPolicy)) for n in p.contact_points or []}
    return len(stored & used)


def last_delivery(session: Session, channel: str) -> dict[str, Any] | None:
    """The latest tried notification through ``channel``."""
    row = session.scalars(select(AlertNotification).where(
        AlertNotification.channel == channel, AlertNotification.status.in_(TRIED))
        .order_by(AlertNotification.id.desc()).limit(1)).first()
    if row is None:
        return None
    return {"status": row.status, "event": row.event, "alert_id": row.alert_id, "attempts": row.attempts,
            "error": row.last_error, "created_at": row.created_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None}


def to_dict(session: Session, point: ContactPoint) -> dict[str, Any]:
    """The API shape of a contact point (the webhook URL's host only: paths carry secrets)."""
    parts = urlsplit(point.url or "")
    return {"id": point.id, "name": point.name, "kind": point.kind, "builtin": point.name in BUILTIN,
            "source": point.source, "channel": channel_of(point),
            "target": (f"{parts.scheme}://{parts.netloc}" if point.url else None) if point.kind == "webhook"
            else ", ".join(point.addresses or []) or None, "addresses": list(point.addresses or []),
            "last_delivery": last_delivery(session, channel_of(point)), "last_test": point.last_test}


def list_all(app: Flask, session: Session) -> list[dict[str, Any]]:
    """The two default contact points, then the others by name, each with what keeps it from
    delivering (``problem``)."""
    points = sorted(session.scalars(select(ContactPoint)),
                    key=lambda p: (BUILTIN.index(p.name) if p.name in BUILTIN else len(BUILTIN), p.name))
    out = []
    for point in points:
        problem = default_points.problem(app, point)
        out.append({**to_dict(session, point), "configured": problem is None, "problem": problem})
    return out
