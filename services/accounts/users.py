"""Accounts: creation, authentication, session-token rotation, the bootstrap admin."""
from __future__ import annotations

import logging
import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session
from werkzeug.security import check_password_hash, generate_password_hash

from database import utcnow
from services.accounts.models import User
from services.accounts import login_sessions

log = logging.getLogger(__name__)
ROLES = ("admin", "viewer")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD_LENGTH = 8
# Checked when the user does not exist, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


def new_token() -> str:
    """A fresh random session token."""
    return secrets.token_urlsafe(32)


def create_user(session: Session, username: str, password: str, role: str = "viewer",
                method: str = "scrypt") -> User:
    """Create a user with a hashed password; refuses bad names, short passwords, duplicates."""
    if not USERNAME_RE.match(username or ""):
        raise UserError("username must be 1-64 letters, digits or _ . @ -")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if get_by_username(session, username) is not None:
        raise UserError(f"user {username!r} already exists")
    user = User(username=username, password_hash=generate_password_hash(password, method=method),
                role=role, session_token=new_token())
    session.add(user)
    session.flush()
    return user


def get_by_username(session: Session, username: str) -> User | None:
    """The user with this name (case-insensitive), or None."""
    return session.scalar(select(User).where(func.lower(User.username) == (username or "").lower()))


def get_by_token(session: Session, token: str) -> User | None:
    """The active user whose current session token is ``token``."""
    if not token:
        return None
    return session.scalar(select(User).where(User.session_token == token, User.is_active.is_(True)))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password matches and the account is active, else None."""
    user = get_by_username(session, username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def rotate_token(user: User) -> None:
    """Invalidate every session of ``user`` (logout, password change), logins and sockets alike."""
    user.session_token = new_token()
    session = object_session(user)
    if session is not None and user.id is not None:
        login_sessions.end_all(session, user.id)


def set_password(user: User, password: str, method: str = "scrypt") -> None:
    """Change the password and end every existing session of the user."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = generate_password_hash(password, method=method)
    user.password_changed_at = utcnow()
    rotate_token(user)


def ensure_bootstrap_admin(session: Session, username: str | None, password: str | None,
                           method: str = "scrypt") -> User | None:
    """Create the first admin from settings when no user exists yet; never overwrite one."""
    if not username or not password:
        return None
    if session.scalar(select(func.count(User.id))):
        return None
    user = create_user(session, username, password, "admin", method)
    log.info("created bootstrap admin %s", username)
    return user
