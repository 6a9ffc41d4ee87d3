"""Request-wide security: headers, session cookie and timeouts, who may change what."""
from __future__ import annotations

import time

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

import database
from extensions import csrf, limiter, login_manager
from blueprints.errors import json_error
from services.accounts import degraded_auth
from services.accounts import login_sessions
from services.accounts import token_failures
from services.accounts import tokens as api_tokens
from services.accounts import users

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# State-changing endpoints a viewer may still call: ending their own session, asking for an
# export link (reading data for accounting changes nothing but the audit trail), their own API
# tokens, reads sent as POST, and picking their own home dashboard.
VIEWER_ALLOWED = frozenset({"auth.logout", "auth.login", "api.create_export", "api.token_create",
                            "api.token_revoke", "api.policy_preview", "api.widgets_query",
                            "api.dashboard_home"})
BEARER = "bearer "


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request itself came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


@login_manager.user_loader
def load_user(token: str):
    """Flask-Login stores the rotating session token, not the user id.

    While the database is down, a session this process verified recently stays
    signed in (``services.accounts.degraded_auth``) so cached answers can still be served.
    """
    try:
        user = users.get_by_token(database.get_session(), token)
    except SQLAlchemyError:
        database.get_session().rollback()
        return degraded_auth.recall(token)
    degraded_auth.remember(token, user)
    return user


@login_manager.request_loader
def load_user_from_bearer(req):
    """``Authorization: Bearer <API token>`` on /admin/api/* acts as the token's owner.

    Called by Flask-Login only when no session cookie names a user, so a browser request is
    never re-authenticated by a header. A refused token leaves its reason on ``g`` (answered 401
    by ``authenticate_then_check_csrf``); pages and sockets never look at the header.
    """
    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/admin/api/") or header[:len(BEARER)].lower() != BEARER:
        return None
    spec = current_app.config.get("API_TOKEN_FAIL_LIMIT")
    wait = token_failures.blocked(limiter.limiter, spec, req.remote_addr)
    if wait is not None:  # too many refused tokens from this address: not even looked up
        g.api_token_throttled = wait
        return None
    db = database.get_session()
    try:
        result = api_tokens.authenticate(db, header[len(BEARER):], req.remote_addr, req.path)
        db.commit()
    except SQLAlchemyError:
        db.rollback()
        g.api_token_refusal = "tokens cannot be checked while the database is unavailable"
        return None
    if isinstance(result, api_tokens.Refusal):
        token_failures.count_failure(limiter.limiter, spec, req.remote_addr)
        g.api_token_refusal = result.reason
        return None
    user, token = result
    g.api_token = token
    return user


def authenticate_then_check_csrf():
    """Settle who calls, then check CSRF unless the call came with an accepted API token.

    A bearer token is not sent by a browser on its own (no cookie is involved), so there is no
    cross-site request to defend against; a read token is refused (403) on anything that writes.
    """
    current_user._get_current_object()  # runs the loaders: cookie first, then the bearer header
    wait = g.pop("api_token_throttled", None)
    if wait is not None:
        return _throttled(wait)
    reason = g.pop("api_token_refusal", None)
    if reason:
        return json_error(401, f"API token refused: {reason}", "invalid_token")
    token = g.get("api_token")
    if token is not None:
        if not api_tokens.allows(token, request.method):
            db = database.get_session()
            audit_refusal(db, "read-only token used to write")
            return json_error(403, "This API token is read-only; create a read-write token to "
                              "change things.", "insufficient_scope")
        return None
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect(apply_exemptions=True)
    return None


def _throttled(wait: int):
    """429 for an address past API_TOKEN_FAIL_LIMIT; the first refusal of a window is audited."""
    if token_failures.first_refusal(limiter.limiter, current_app.config.get("API_TOKEN_FAIL_LIMIT"),
                                    request.remote_addr):
        from services.accounts import audit

        db = database.get_session()
        audit.record(db, "api_token.use", actor=None, ip=request.remote_addr, outcome="failure",
                     detail={"reason": "too many refused tokens from this address", "path": request.path[:200]})
        try:
            db.commit()
        except SQLAlchemyError:
            db.rollback()
    response, status = json_error(429, "Too many refused API tokens from this address; try again in "
                                  f"{wait} s.", "too_many_attempts", retry_after=wait)
    response.headers["Retry-After"] = str(wait)
    return response, status


def audit_refusal(db, reason: str) -> None:
    """Record a refused token use (the token was valid, the request was not allowed)."""
    from services.accounts import audit

    token = g.api_token
    audit.record(db, "api_token.use", actor=current_user.username, ip=request.remote_addr,
                 target=f"api_token:{token.id}", outcome="failure",
                 detail={"reason": reason, "path": request.path[:200], "method": request.method})
    try:
        db.commit()
    except SQLAlchemyError:
        db.rollback()


@login_manager.unauthorized_handler
def unauthorized():
    """API callers get 401 JSON; people get the login page and come back afterwards."""
    if request.path.startswith("/admin/api/"):
        return json_error(401, "Log in to use this API.")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def enforce_session_age():
    """End a session past the absolute or the idle limit; note that a live one was used.

    The idle limit counts from ``seen_at``, which moves (with the login's row, where open
    sockets read it) at most once per ``touch_every`` seconds: pages and sockets end together.
    """
    if not current_user.is_authenticated or g.get("api_token") is not None:
        return None  # a token call has no session to age
    cfg, now = current_app.config, time.time()
    idle = cfg["SESSION_IDLE_MINUTES"] * 60
    started = session.get("auth_at", 0)
    if now - started > cfg["SESSION_ABSOLUTE_HOURS"] * 3600 or now - session.get("seen_at", now) > idle:
        logout_user()
        session.clear()
        return None
    login_id = session.get("login_id")
    if login_id and now - session.get("seen_at", 0) < login_sessions.touch_every(idle):
        return None
    db = database.get_session()
    try:
        # A session from before logins had rows gets one now; sockets need it to connect.
        login_id = login_id or login_sessions.new_id()
        login_sessions.touch(db, login_id, current_user.id, started or now, now)
        db.commit()
    except SQLAlchemyError:  # the database is down: the page degrades, the session stays
        db.rollback()
        return None
    session.update(login_id=login_id, seen_at=now)
    return None


def enforce_read_only_viewers():
    """A viewer may look at everything and change nothing (403), wherever the route lives."""
    if request.method in SAFE_METHODS or not request.path.startswith("/admin"):
        return None
    if request.endpoint in VIEWER_ALLOWED:
        return None
    if current_user.is_authenticated and not current_user.is_admin:
        abort(403, description="Viewers have read-only access.")
    return None


def set_security_headers(response):
    """Headers every response carries."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/admin"):
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Install the session interface and the request hooks on ``app``."""
    app.session_interface = SessionInterface()
    degraded_auth.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    # CSRF is checked here, after the bearer token is settled, instead of by Flask-WTF's own hook.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(authenticate_then_check_csrf)
    app.before_request(enforce_session_age)
    app.before_request(enforce_read_only_viewers)
    app.after_request(set_security_headers)
