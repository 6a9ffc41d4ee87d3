"""Public dashboard links: ``/d/<token>`` (the page) and ``/d/<token>/data`` (its widgets' data).

No login: the token is the credential. The data route takes no query input at all: it runs
only the saved widget queries of the token's dashboard, so a link can neither read another
dashboard nor run a query of its own. Off (404) unless ``PUBLIC_DASHBOARDS=true``; a revoked
token answers 404.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template

import database
from blueprints.errors import json_error
from services import dashboards
from services.dashboards import service

bp = Blueprint("public_dashboards", __name__, url_prefix="/d")


def _dashboard(token: str):
    if not current_app.config.get("PUBLIC_DASHBOARDS"):
        return None
    try:
        return service.by_token(database.get_session(), token)
    except service.NotFound:
        return None


@bp.get("/<token>")
def page(token: str):
    """The dashboard read-only, refreshed every live tick."""
    d = _dashboard(token)
    if d is None:
        abort(404)
    return render_template("dashboard_public.html", page="public-dashboard", dashboard=service.to_dict(d),
                           token=token, interval=current_app.config["LIVE_UPDATE_INTERVAL"])


@bp.get("/<token>/data")
def data(token: str):
    """Every saved widget query of this link's dashboard, by widget id."""
    d = _dashboard(token)
    if d is None:
        return json_error(404, "no such link")
    app = current_app._get_current_object()
    widgets = dashboards.widgets.run_dashboard(database.get_session(), (d.model or {}).get("widgets", []),
                                               dashboards.cache_of(app), database.utcnow, app.config,
                                               viewed=d.id)
    return jsonify({"dashboard": service.to_dict(d), "results": widgets})
