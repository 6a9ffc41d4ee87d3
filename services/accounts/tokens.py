"""Personal API tokens for scripts: created once (shown once), stored hashed, scoped, expiring.

A token is ``adm_`` followed by 32 random bytes (URL-safe base64); the database keeps only its
SHA-256, so a copy of the database lets nobody in. ``authenticate`` turns an
``Authorization: Bearer`` value into (user, token) or a refusal with the reason; the blueprint
layer decides what a refusal answers (401) and what a read token may not do (403). Creating,
revoking and every refused use are audited; a successful use moves ``last_used_at`` (at most
once a minute, so a busy script does not write on every call).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from services.accounts.models import User
from services.accounts import audit
from services.accounts.tokens_models import ApiToken
from services.infra.input_checks import InputError, has_control

PREFIX = "adm_"
SCOPES = ("read", "read-write")
MAX_DAYS = 365
MAX_NAME = 80
MAX_TOKENS_PER_USER = 50
TOUCH_EVERY = timedelta(minutes=1)


class TokenError(InputError):
    """Refused input (400 naming ``field``), too many tokens (409) or a missing token (404)."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        code = {404: "not_found", 409: "conflict"}.get(status, "invalid_token_request")
        super().__init__(message, field, code, status)


@dataclass
class Refusal:
    """Why a bearer token was not accepted (always answered 401)."""

    reason: str


def hash_token(token: str) -> str:
    """The stored form of a token: hex SHA-256 (tokens are random, so no salt or slow hash)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_to_dict(token: ApiToken, now: datetime | None = None) -> dict[str, Any]:
    """The listing shape (never the token itself)."""
    now = now or utcnow()
    iso = lambda t: t.isoformat() if t else None  # noqa: E731 - local formatter
    state = "revoked" if token.revoked_at else "expired" if token.expires_at <= now else "active"
    return {"id": token.id, "name": token.name, "prefix": token.prefix, "scope": token.scope,
            "state": state, "created_at": iso(token.created_at), "expires_at": iso(token.expires_at),
            "revoked_at": iso(token.revoked_at), "last_used_at": iso(token.last_used_at),
            "last_used_ip": token.last_used_ip}


def _clean(payload: dict[str, Any]) -> tuple[str, str, int]:
    unknown = set(payload) - {"name", "scope", "expires_in_days"}
    if unknown:
        raise TokenError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}", "body")
    name = payload.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME or has_control(name):
        raise TokenError(f"name must be one line of 1 to {MAX_NAME} characters", "name")
    scope = payload.get("scope", "read")
    if scope not in SCOPES:
        raise TokenError("scope must be read or read-write", "scope")
    days = payload.get("expires_in_days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise TokenError(f"expires_in_days must be a whole number from 1 to {MAX_DAYS}", "expires_in_days")
    return name.strip(), scope, days


def create(session: Session, user: User, payload: dict[str, Any], ip: str | None,
           now: datetime | None = None) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns (row, the token in clear, to be shown once). Audited."""
    name, scope, days = _clean(payload)
    count = len(list_for(session, user.id))
    if count >= MAX_TOKENS_PER_USER:
        raise TokenError(f"at most {MAX_TOKENS_PER_USER} tokens per person; revoke one first", "name", 409)
    now = now or utcnow()
    clear = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=hash_token(clear), prefix=clear[:10],
                   scope=scope, created_at=now, expires_at=now + timedelta(days=days))
    session.add(row)
    session.flush()
    audit.record(session, "api_token.create", actor=user.username, ip=ip, target=f"api_token:{row.id}",
                 detail={"name": name, "scope": scope, "expires_at": row.expires_at.isoformat()})
    return row, clear


def list_for(session: Session, user_id: int) -> list[ApiToken]:
    """A person's tokens, newest first (revoked and expired ones included, marked)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                .order_by(ApiToken.id.desc())))


def revoke(session: Session, user: User, token_id: int, ip: str | None,
           now: datetime | None = None) -> ApiToken:
    """Revoke one of ``user``'s own tokens (404 for anyone else's). Audited; idempotent."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise TokenError(f"you have no token {token_id}", "id", 404)
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        audit.record(session, "api_token.revoke", actor=user.username, ip=ip,
                     target=f"api_token:{row.id}", detail={"name": row.name})
    session.flush()
    return row


def authenticate(session: Session, header_value: str, ip: str | None, path: str,
                 now: datetime | None = None) -> tuple[User, ApiToken] | Refusal:
    """The owner and token named by a bearer value, or a ``Refusal`` (audited, uncommitted)."""
    now = now or utcnow()
    clear = header_value.strip()
    row = None
    if clear.startswith(PREFIX) and len(clear) <= 200:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(clear)))
    reason = None
    if row is None or not hmac.compare_digest(row.token_hash, hash_token(clear)):
        reason, row = "unknown token", None
    elif row.revoked_at is not None:
        reason = "token revoked"
    elif row.expires_at <= now:
        reason = "token expired"
    user = session.get(User, row.user_id) if row is not None else None
    if reason is None and (user is None or not user.is_active):
        reason = "the token's owner is disabled"
    if reason:
        audit.record(session, "api_token.use", actor=user.username if user else None, ip=ip,
                     target=f"api_token:{row.id}" if row else None, outcome="failure",
                     detail={"reason": reason, "path": path[:200]})
        return Refusal(reason)
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at, row.last_used_ip = now, ip
    return user, row


def allows(token: ApiToken, method: str) -> bool:
    """Whether the token's scope permits a request with this HTTP method."""
    return token.scope == "read-write" or method in ("GET", "HEAD", "OPTIONS")
