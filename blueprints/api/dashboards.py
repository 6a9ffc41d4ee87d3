"""Dashboards JSON API: list, create, read, update with a version, delete, share, export, import,
and the batched widget query. Reads follow each dashboard's visibility; changes need the admin role.
"""
from __future__ import annotations

from flask import current_app, jsonify
from flask_login import current_user

import database
from blueprints.api.base import admin_required, audit_admin, bp, json_body
from blueprints.errors import json_error
from services import dashboards
from services.dashboards import home, service
from services.dashboards.models import Dashboard


def _public_allowed() -> bool:
    return bool(current_app.config.get("PUBLIC_DASHBOARDS"))


def _out(d: Dashboard) -> dict:
    body = service.to_dict(d)
    # The link's secret only to those who may revoke it.
    if d.public_token and current_user.is_admin and _public_allowed():
        body["public_url"] = f"/d/{d.public_token}"
    return body


def _errors(fn):
    """Answer the service's refusals: 404 unseen, 403 not allowed, 409 stale version."""
    try:
        return fn()
    except service.NotFound as exc:
        return json_error(404, str(exc))
    except service.Forbidden as exc:
        return json_error(403, str(exc))
    except service.Conflict as exc:
        return json_error(409, str(exc), "version_conflict", current_version=exc.current)


@bp.get("/dashboards")
def dashboards_list():
    """Every dashboard the user may see (without their widgets)."""
    session = database.get_session()
    rows = service.list_visible(session, current_user)
    return jsonify({"dashboards": [service.to_dict(d, with_widgets=False) for d in rows],
                    "home": home.home_of(session, current_user)})


@bp.put("/dashboards/home")
def dashboard_home():
    """Make a dashboard the caller's home (where they land after signing in); null: the Overview.
    A preference of their own, so viewers may set it for any dashboard they can see."""
    session = database.get_session()

    def work():
        chosen = home.set_home(session, current_user._get_current_object(), json_body())
        audit_admin(session, "dashboard.home", f"dashboard:{chosen}" if chosen else "overview")
        session.commit()
        return jsonify({"home": chosen})
    return _errors(work)


@bp.post("/dashboards")
@admin_required
def dashboard_create():
    """Create a dashboard owned by the caller (201)."""
    session = database.get_session()
    d = service.create(session, json_body(), current_user, _public_allowed())
    audit_admin(session, "dashboard.create", f"dashboard:{d.id}", {"title": d.title})
    session.commit()
    return jsonify({"dashboard": _out(d)}), 201


@bp.get("/dashboards/<int:dashboard_id>")
def dashboard_read(dashboard_id: int):
    """One dashboard with its widgets."""
    return _errors(lambda: jsonify({"dashboard": _out(
        service.get(database.get_session(), dashboard_id, current_user))}))


@bp.put("/dashboards/<int:dashboard_id>")
@admin_required
def dashboard_update(dashboard_id: int):
    """Save title/widgets/visibility; ``version`` must be the one read (409 otherwise)."""
    session = database.get_session()

    def work():
        d = service.update(session, dashboard_id, json_body(), current_user, _public_allowed())
        audit_admin(session, "dashboard.update", f"dashboard:{d.id}", {"version": d.version})
        session.commit()
        return jsonify({"dashboard": _out(d)})
    return _errors(work)


@bp.delete("/dashboards/<int:dashboard_id>")
@admin_required
def dashboard_delete(dashboard_id: int):
    """Delete a dashboard (its public link stops working)."""
    session = database.get_session()

    def work():
        service.delete(session, dashboard_id, current_user)
        audit_admin(session, "dashboard.delete", f"dashboard:{dashboard_id}")
        session.commit()
        return jsonify({"deleted": dashboard_id})
    return _errors(work)


@bp.post("/dashboards/<int:dashboard_id>/share")
@admin_required
def dashboard_share(dashboard_id: int):
    """Private, shared with roles, or public by a random link (PUBLIC_DASHBOARDS); revocable."""
    session = database.get_session()

    def work():
        d = service.share(session, dashboard_id, json_body(), current_user, _public_allowed())
        audit_admin(session, "dashboard.share", f"dashboard:{d.id}",
                    {"visibility": d.visibility, "shared_roles": d.shared_roles})
        session.commit()
        return jsonify({"dashboard": _out(d)})
    return _errors(work)


@bp.get("/dashboards/<int:dashboard_id>/export")
def dashboard_export(dashboard_id: int):
    """The dashboard as a JSON document the import takes."""
    return _errors(lambda: jsonify(service.export(database.get_session(), dashboard_id, current_user)))


@bp.post("/dashboards/import")
@admin_required
def dashboard_import():
    """A new private dashboard from an export (201)."""
    session = database.get_session()
    d = service.import_(session, json_body(), current_user)
    audit_admin(session, "dashboard.import", f"dashboard:{d.id}", {"title": d.title})
    session.commit()
    return jsonify({"dashboard": _out(d)}), 201


@bp.post("/widgets/query")
def widgets_query():
    """A batch: ``{"queries": [...]}`` answers each in order; ``{"dashboard": id}`` answers every
    saved query of that dashboard by widget id. Results are shared for one live tick."""
    body = json_body()
    session = database.get_session()
    app = current_app._get_current_object()
    cache = dashboards.cache_of(app)
    extra = sorted(set(body) - {"queries", "dashboard"})
    if extra or len(body) != 1:
        return json_error(400, "send either queries or dashboard", "invalid_parameter",
                          field=f"body.{extra[0]}" if extra else "body")
    if "dashboard" in body:
        raw = body["dashboard"]
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 2**31 - 1:
            return json_error(400, "body.dashboard must be a dashboard id", "invalid_parameter",
                              field="body.dashboard")

        def work():
            d = service.get(session, raw, current_user)
            tick = cache.stamp()
            results = dashboards.widgets.run_dashboard(session, (d.model or {}).get("widgets", []), cache,
                                                       database.utcnow, app.config, viewed=d.id)
            return jsonify({"dashboard": d.id, "version": d.version, "results": results, **tick})
        return _errors(work)
    queries = dashboards.widgets.normalize_batch(body.get("queries"))
    tick = cache.stamp()
    return jsonify({"results": dashboards.widgets.run_batch(session, queries, cache, database.utcnow,
                                                            app.config), **tick})
