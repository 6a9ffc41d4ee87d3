"""Dashboards: list, create, read, update with a version, delete, share, export and import.

Functions take the signed-in user (anything with ``id`` and ``role``) and answer
``NotFound`` for a dashboard that does not exist or that the user may not see (the same answer,
so ids of private dashboards are not revealed), ``Forbidden`` for a change the user may not
make, ``Conflict`` for a stale version; bad input is an ``InputError`` naming the field.
"""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy import update as sql_update  # this module has its own update()
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from database import utcnow
from services.accounts.models import User
from services.dashboards import access, defaults
from services.dashboards.model import normalize_widgets, title as check_title, visibility as check_visibility
from services.dashboards.models import Dashboard
from services.infra import InputError, ascii_int

EXPORT_FORMAT = "dashboard/v1"


class NotFound(LookupError):
    """No such dashboard, or not one the user may see."""


class Forbidden(PermissionError):
    """The user may see the dashboard but not make this change."""


class Conflict(RuntimeError):
    """The dashboard changed since the version the client read."""

    def __init__(self, current: int):
        super().__init__(f"the dashboard was changed by someone else (now version {current}); "
                         "reload it and apply your change again")
        self.current = current


def to_dict(d: Dashboard, *, with_widgets: bool = True) -> dict[str, Any]:
    """A dashboard as JSON (the public token only for those who may edit it; see the blueprint)."""
    out = {"id": d.id, "title": d.title, "owner_id": d.owner_id, "visibility": d.visibility,
           "shared_roles": list(d.shared_roles or []), "public": d.public_token is not None,
           "version": d.version, "is_default": bool(d.is_default),
           "created_at": d.created_at.isoformat(), "updated_at": d.updated_at.isoformat()}
    if with_widgets:
        out["widgets"] = (d.model or {}).get("widgets", [])
    return out


def _fields(body: dict, allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise InputError(f"body.{extra[0]} is not a known field", f"body.{extra[0]}")


def list_visible(session: Session, user: Any) -> list[Dashboard]:
    """Every dashboard ``user`` may see, the default first, then by title."""
    rows = session.scalars(select(Dashboard).order_by(Dashboard.is_default.desc(), Dashboard.title,
                                                      Dashboard.id))
    return [d for d in rows if access.can_see(d, user)]


def get(session: Session, dashboard_id: int, user: Any) -> Dashboard:
    """One dashboard ``user`` may see."""
    d = session.get(Dashboard, dashboard_id)
    if d is None or not access.can_see(d, user):
        raise NotFound(f"no dashboard {dashboard_id}")
    return d


def _editable(session: Session, dashboard_id: int, user: Any) -> Dashboard:
    d = get(session, dashboard_id, user)
    if not access.can_edit(d, user):
        raise Forbidden("changing a dashboard needs the admin role")
    return d


def _apply_visibility(d: Dashboard, body: dict, public_allowed: bool) -> None:
    vis, roles = check_visibility(body.get("visibility", d.visibility if "shared_roles" in body else None),
                                  body.get("shared_roles"))
    if vis == "public":
        if not public_allowed:
            raise InputError("public dashboards are disabled (PUBLIC_DASHBOARDS=false)", "visibility")
        if d.public_token is None or body.get("new_token") is True:
            d.public_token = secrets.token_urlsafe(32)
    else:
        d.public_token = None  # revoked: the old link answers 404 from now on
    d.visibility, d.shared_roles = vis, roles


def create(session: Session, body: dict, user: Any, public_allowed: bool) -> Dashboard:
    """A new dashboard owned by ``user`` (private unless the body says otherwise)."""
    _fields(body, {"title", "visibility", "shared_roles", "widgets"})
    d = Dashboard(owner_id=user.id, title=check_title(body.get("title"), "body.title"),
                  model={"widgets": normalize_widgets(body.get("widgets", []), "body.widgets")},
                  visibility="private", shared_roles=[])
    _apply_visibility(d, {"visibility": body.get("visibility"), "shared_roles": body.get("shared_roles")},
                      public_allowed)
    session.add(d)
    session.flush()
    return d


def update(session: Session, dashboard_id: int, body: dict, user: Any, public_allowed: bool) -> Dashboard:
    """Change title and/or widgets (and visibility) if ``body.version`` is still the stored one."""
    _fields(body, {"version", "title", "widgets", "visibility", "shared_roles"})
    version = ascii_int(body.get("version"), "body.version", 1, 2**31 - 1) if "version" in body else None
    if version is None:
        raise InputError("body.version is required: the version you read", "body.version")
    d = _editable(session, dashboard_id, user)
    if d.version != version:
        raise Conflict(d.version)
    title = check_title(body["title"], "body.title") if "title" in body else None
    widgets = normalize_widgets(body["widgets"], "body.widgets") if "widgets" in body else None
    if "visibility" in body or "shared_roles" in body:
        _apply_visibility(d, body, public_allowed)
    if title is not None:
        d.title = title
    if widgets is not None:
        d.model = {"widgets": widgets}
    d.updated_at = utcnow()
    _flush(session, d)
    return d


def _flush(session: Session, d: Dashboard) -> None:
    # The version column makes a save that lost a race (another request committed meanwhile)
    # change no row: that is a conflict, not an error.
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        current = session.scalar(select(Dashboard.version).where(Dashboard.id == d.id))
        raise Conflict(current or 0) from None


def share(session: Session, dashboard_id: int, body: dict, user: Any, public_allowed: bool) -> Dashboard:
    """Set who sees it: ``visibility``, ``shared_roles``; ``new_token`` replaces a public link."""
    _fields(body, {"visibility", "shared_roles", "new_token"})
    if "visibility" not in body:
        raise InputError("body.visibility is required (private, roles or public)", "body.visibility")
    if "new_token" in body and not isinstance(body["new_token"], bool):
        raise InputError("body.new_token must be true or false", "body.new_token")
    d = _editable(session, dashboard_id, user)
    _apply_visibility(d, body, public_allowed)
    d.updated_at = utcnow()
    _flush(session, d)
    return d


def delete(session: Session, dashboard_id: int, user: Any) -> None:
    """Remove a dashboard; it stops being anyone's home (``services.dashboards.home``)."""
    session.delete(_editable(session, dashboard_id, user))
    session.execute(sql_update(User).where(User.home_dashboard_id == dashboard_id).values(home_dashboard_id=None))
    session.flush()


def export(session: Session, dashboard_id: int, user: Any) -> dict[str, Any]:
    """The dashboard as a document ``import_`` takes (no owner, no sharing, no token)."""
    d = get(session, dashboard_id, user)
    return {"format": EXPORT_FORMAT, "title": d.title, "widgets": (d.model or {}).get("widgets", [])}


def import_(session: Session, body: dict, user: Any) -> Dashboard:
    """A new private dashboard from an export."""
    _fields(body, {"format", "title", "widgets"})
    if body.get("format") != EXPORT_FORMAT:
        raise InputError(f"body.format must be {EXPORT_FORMAT!r} (a dashboard export)", "body.format")
    return create(session, {"title": body.get("title"), "widgets": body.get("widgets", [])}, user, False)


def by_token(session: Session, token: str) -> Dashboard:
    """The public dashboard of a link's token (NotFound once revoked or when disabled)."""
    if not token or len(token) > 64:
        raise NotFound("no such link")
    d = session.scalar(select(Dashboard).where(Dashboard.public_token == token))
    if d is None or d.visibility != "public":
        raise NotFound("no such link")
    return d


def ensure_default(session: Session) -> Dashboard | None:
    """Create the default layout once (first start); None when it exists already."""
    if session.scalar(select(Dashboard.id).where(Dashboard.is_default.is_(True)).limit(1)) is not None:
        return None
    d = Dashboard(owner_id=None, title=defaults.TITLE, visibility="roles",
                  shared_roles=["admin", "viewer"], model={"widgets": defaults.widgets()},
                  is_default=True)
    session.add(d)
    session.flush()
    return d
