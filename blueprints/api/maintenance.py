"""Maintenance windows (manual ones started and stopped by scripts too) and alerts sent by scripts."""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user

import database
from blueprints.api.base import admin_required, audit_admin, bp, json_body
from services.alerts import external as alert_external
from services.alerts import lifecycle as alerts
from services.accounts import audit
from services.routing import coverage, maintenance


def _commit(action: str, target: str, detail: dict | None = None) -> None:
    """Audit the change as the signed-in admin and commit it with the change itself."""
    session = database.get_session()
    audit_admin(session, action, target, detail)
    session.commit()


def _limit():
    return maintenance.confirm_after(current_app.config)


@bp.get("/maintenance")
def maintenance_list():
    """Every maintenance window, with whether it mutes now and until when, and what is covered now."""
    now, session = database.utcnow(), database.get_session()
    return jsonify({"windows": [maintenance.to_dict(w, now) for w in maintenance.list_all(session)],
                    "in_maintenance": coverage.in_maintenance(session, now),
                    "confirm_hours": _limit().total_seconds() / 3600})


@bp.post("/maintenance")
@admin_required
def maintenance_create():
    """Add a window (201); one muting longer than MAINTENANCE_CONFIRM_HOURS needs "confirm": true (409)."""
    window = maintenance.create(database.get_session(), json_body(), current_user.username, _limit())
    _commit("maintenance.create", f"maintenance:{window.id}", {"name": window.name, "kind": window.kind})
    return jsonify({"window": maintenance.to_dict(window)}), 201


@bp.put("/maintenance/<int:window_id>")
@admin_required
def maintenance_update(window_id: int):
    """Change a window."""
    window = maintenance.update(database.get_session(), window_id, json_body(), _limit())
    _commit("maintenance.update", f"maintenance:{window.id}", {"name": window.name})
    return jsonify({"window": maintenance.to_dict(window)})


@bp.delete("/maintenance/<int:window_id>")
@admin_required
def maintenance_delete(window_id: int):
    """Remove a window."""
    maintenance.delete(database.get_session(), window_id)
    _commit("maintenance.delete", f"maintenance:{window_id}")
    return jsonify({"deleted": window_id})


@bp.post("/maintenance/<int:window_id>/start")
@admin_required
def maintenance_start(window_id: int):
    """Start a manual window now; body {"minutes": optional} ends it by itself; without an end, or
    longer than MAINTENANCE_CONFIRM_HOURS, it needs "confirm": true (409 otherwise)."""
    body = json_body(required=False)
    window = maintenance.start(database.get_session(), window_id, body.get("minutes"),
                               confirm=body.get("confirm"), limit=_limit())
    _commit("maintenance.start", f"maintenance:{window.id}", {"ends_at": window.ends_at.isoformat()
                                                             if window.ends_at else None})
    return jsonify({"window": maintenance.to_dict(window)})


@bp.post("/maintenance/<int:window_id>/stop")
@admin_required
def maintenance_stop(window_id: int):
    """Stop a manual window now (held-back notifications go out on the next tick)."""
    window = maintenance.stop(database.get_session(), window_id)
    _commit("maintenance.stop", f"maintenance:{window.id}")
    return jsonify({"window": maintenance.to_dict(window)})


@bp.post("/alerts/external")
@admin_required
def alert_external_submit():
    """Fire, refresh or resolve an alert from a script: {"key"?, "status", "title", "severity",
    "labels"?, "annotations"?, "started_at"?}; deduplicated by key (or title and labels)."""
    session = database.get_session()
    alert, changed = alert_external.submit(current_app._get_current_object(), session, json_body())
    audit.record(session, "alert.external", actor=current_user.username, ip=request.remote_addr,
                 target=f"alert:{alert.id}" if alert else None,
                 detail={"key": alert.source_key if alert else None, "changed": changed})
    session.commit()
    return jsonify({"alert": alerts.alert_to_dict(alert) if alert else None, "changed": changed})
