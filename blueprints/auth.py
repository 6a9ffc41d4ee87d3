"""Login and logout pages."""
from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, make_response, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_user, logout_user

import database
from extensions import limiter
from blueprints.forms import LoginForm
from services.accounts import audit
from services.infra import breaker as circuit_breaker
from services.infra import bus as events
from services.infra import topics
from services.accounts import login_sessions
from services.accounts import users
from services.dashboards import home

bp = Blueprint("auth", __name__, url_prefix="/admin")
log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    """Only a same-site path is a valid place to go after login; anything else goes home."""
    default = url_for("pages.dashboard")
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _failed(response) -> bool:
    # Only failed attempts count toward the limits; a real admin logging in is never charged,
    # nor anyone whose password could not be checked because the database was down (503).
    return request.method == "POST" and response.status_code not in (302, 503)


def _account_key() -> str:
    # Per account *and* address: an attacker elsewhere cannot lock the real admin out.
    name = (request.form.get("username") or "").strip().lower()[:64]
    return f"login:{name}:{request.remote_addr}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_IP"], methods=["POST"],
               deduct_when=_failed, key_func=lambda: f"login-ip:{request.remote_addr}")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"], methods=["POST"],
               deduct_when=_failed, key_func=_account_key)
def login():
    """Show the login form; on a valid POST start a fresh session."""
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data))
    status = 200
    if form.validate_on_submit():
        db = database.get_session()
        try:
            user = users.authenticate(db, form.username.data.strip(), form.password.data)
        except Exception as exc:
            if not circuit_breaker.is_outage(exc):
                raise
            return _database_unavailable(form, exc)
        if user is not None:
            audit.record(db, "login", actor=user.username, ip=request.remote_addr)
            now = time.time()
            login_id = login_sessions.start(db, user, now,
                                            current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600)
            db.commit()
            session.clear()  # no fixation: a new session for a new login
            login_user(user)
            session.permanent = True
            session.update(auth_at=now, seen_at=now, login_id=login_id)
            # Where they asked to go, else the home dashboard they picked, else the Overview.
            return redirect(safe_next(form.next.data or home.home_path(db, user)))
        audit.record(db, "login", actor=form.username.data.strip()[:64], ip=request.remote_addr,
                     outcome="failure")
        db.commit()
        flash("Invalid username or password.", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form), status


def _database_unavailable(form: LoginForm, exc: Exception):
    """The password cannot be checked: say so on the form (503), right or wrong as it may be."""
    database.get_session().rollback()
    circuit_breaker.note_outage(log, "checking a login: answered 503", exc)
    flash("The database is unavailable right now, so your password cannot be checked. "
          "Nothing was changed; try again in a minute.", "error")
    resp = make_response(render_template("login.html", form=form), 503)
    resp.headers["Retry-After"] = str(circuit_breaker.RETRY_AFTER_SECONDS)
    return resp


@bp.route("/logout", methods=["POST"])
def logout():
    """End the session for good: rotating the token kills every copy of the cookie."""
    if current_user.is_authenticated:
        db = database.get_session()
        user = current_user._get_current_object()  # loaded through this request's session
        users.rotate_token(user)
        audit.record(db, "logout", actor=user.username, ip=request.remote_addr)
        db.commit()
        events.publish(topics.USER_LOGGED_OUT, {"user_id": user.id})
    logout_user()
    session.clear()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))
