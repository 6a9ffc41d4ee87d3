"""A user's home: the dashboard they land on after signing in, picked by themselves.

Anyone who may see a dashboard may make it their home (a preference of their own, not a change
to the dashboard, so viewers may too). A home they can no longer see (made private, unshared) is
skipped at sign-in and they land on the Overview, as they do without one; deleting a dashboard
clears it as everyone's home (``services.dashboards.service.delete``).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.dashboards import access
from services.dashboards.models import Dashboard
from services.dashboards.service import NotFound, get
from services.infra import MAX_ID, InputError


def set_home(session: Session, user: Any, body: dict[str, Any]) -> int | None:
    """Make ``body["dashboard_id"]`` (a dashboard ``user`` may see, or null) their home; flushed.
    Raises ``InputError`` (400) or ``NotFound`` (404, also for one they may not see)."""
    extra = sorted(set(body) - {"dashboard_id"})
    if extra:
        raise InputError(f"body.{extra[0]} is not a known field", f"body.{extra[0]}")
    if "dashboard_id" not in body:
        raise InputError("dashboard_id is required (null for the Overview)", "dashboard_id")
    wanted = body["dashboard_id"]
    if wanted is not None and (isinstance(wanted, bool) or not isinstance(wanted, int)
                               or not 0 < wanted <= MAX_ID):
        raise InputError("dashboard_id must be a dashboard's id, or null for the Overview", "dashboard_id")
    if wanted is not None:
        get(session, wanted, user)  # NotFound (404) when it does not exist or is not visible
    user.home_dashboard_id = wanted
    session.flush()
    return wanted


def home_of(session: Session, user: Any) -> int | None:
    """The user's home dashboard if they may still see it, else None."""
    wanted = getattr(user, "home_dashboard_id", None)
    if wanted is None:
        return None
    d = session.get(Dashboard, wanted)
    return wanted if d is not None and access.can_see(d, user) else None


def home_path(session: Session, user: Any) -> str | None:
    """Where ``user`` lands after signing in when nothing else was asked for (None: the Overview)."""
    wanted = home_of(session, user)
    return f"/admin/dashboards/{wanted}" if wanted is not None else None
