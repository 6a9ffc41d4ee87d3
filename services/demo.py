"""Demo mode: a demo admin whose random password is printed once."""
from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from database import User
from services import users


def ensure_demo_admin(session: Session, method: str = "scrypt") -> str | None:
    """Create admin ``demo`` with a random password when there is no user; return the password."""
    if session.scalar(select(func.count(User.id))):
        return None
    password = secrets.token_urlsafe(12)
    users.create_user(session, "demo", password, "admin", method)
    return password
