"""Accounts: users and roles, login sessions, sign-in while the database is down, and the audit log.
"""
from __future__ import annotations

from services.accounts.login_sessions import Ended, SessionRef
from services.accounts.models import AuditLog, User

__all__ = [
    "AuditLog",
    "Ended",
    "SessionRef",
    "User",
]
