"""Who may see and change a dashboard.

Private: its owner only. Shared with roles: its owner and every user whose role is listed.
Public (by link): every signed-in user, and anyone holding the link's token (read-only). Only
admins create, change, share or delete, and only dashboards they can see.
"""
from __future__ import annotations

from typing import Any

from services.dashboards.models import Dashboard


def can_see(dashboard: Dashboard, user: Any) -> bool:
    """Whether the signed-in ``user`` may read ``dashboard``."""
    if dashboard.owner_id is not None and dashboard.owner_id == user.id:
        return True
    if dashboard.visibility == "public":
        return True
    if dashboard.visibility == "roles":
        return user.role in (dashboard.shared_roles or [])
    # A private dashboard whose owner was removed is left to the admins.
    return dashboard.owner_id is None and user.role == "admin"


def can_edit(dashboard: Dashboard, user: Any) -> bool:
    """Whether ``user`` may change, share or delete ``dashboard``."""
    return user.role == "admin" and can_see(dashboard, user)
