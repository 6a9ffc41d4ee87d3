"""Monitors JSON API: list, detail, create, change, pause, delete, export and import.

Reads are open to every logged-in user; writes need the admin role (and are audited).
"""
from __future__ import annotations

from flask import current_app, jsonify

import database
from blueprints.api.base import admin_required, audit_admin, bp, json_body
from blueprints.errors import json_error
from services.alerts.dispatch import commit_and_announce
from services.checks import service
from services.checks.service import MonitorNotFound



def _min_interval() -> int:
    return int(current_app.config.get("MONITOR_MIN_INTERVAL") or 10)


def _finish(session, changes, monitor=None):
    """Commit with the alert changes, then announce them and the monitor's new settings."""
    commit_and_announce(current_app._get_current_object(), session, changes)
    if monitor is not None:
        service.publish_change(monitor)


@bp.get("/monitors")
def monitors_list():
    """Every monitor with its state and uptime 24 h / 7 d / 30 d."""
    return jsonify({"monitors": service.list_with_figures(database.get_session())})


@bp.get("/monitors/<int:monitor_id>")
def monitor_detail(monitor_id: int):
    """One monitor with hourly buckets, recent results and state changes."""
    try:
        return jsonify({"monitor": service.detail(database.get_session(), monitor_id)})
    except MonitorNotFound as exc:
        return json_error(404, str(exc))


@bp.post("/monitors")
@admin_required
def monitor_create():
    """Create a monitor (201); 400 naming the field, 409 when the name is taken."""
    session = database.get_session()
    monitor = service.create(session, json_body(), min_interval=_min_interval())
    audit_admin(session, "monitor.create", f"monitor:{monitor.id}", {"name": monitor.name, "kind": monitor.kind})
    _finish(session, [], monitor)
    return jsonify({"monitor": service.to_dict(monitor)}), 201


@bp.put("/monitors/<int:monitor_id>")
@admin_required
def monitor_update(monitor_id: int):
    """Change some or all fields of a monitor (its kind stays)."""
    session = database.get_session()
    try:
        monitor, changed, changes = service.update(session, monitor_id, json_body(),
                                                   min_interval=_min_interval())
    except MonitorNotFound as exc:
        return json_error(404, str(exc))
    audit_admin(session, "monitor.update", f"monitor:{monitor.id}",
           {k: v[1] for k, v in changed.items() if k != "headers"})
    _finish(session, changes, monitor)
    return jsonify({"monitor": service.to_dict(monitor)})


@bp.post("/monitors/<int:monitor_id>/pause")
@admin_required
def monitor_pause(monitor_id: int):
    """Pause or resume a monitor: body {"paused": true|false}."""
    session = database.get_session()
    try:
        monitor, changes = service.set_paused(session, monitor_id, json_body().get("paused"))
    except MonitorNotFound as exc:
        return json_error(404, str(exc))
    audit_admin(session, "monitor.pause" if monitor.paused else "monitor.resume", f"monitor:{monitor.id}")
    _finish(session, changes, monitor)
    return jsonify({"monitor": service.to_dict(monitor)})


@bp.delete("/monitors/<int:monitor_id>")
@admin_required
def monitor_delete(monitor_id: int):
    """Delete a monitor with its results; its open alert is resolved."""
    session = database.get_session()
    try:
        monitor, changes = service.delete(session, monitor_id)
    except MonitorNotFound as exc:
        return json_error(404, str(exc))
    audit_admin(session, "monitor.delete", f"monitor:{monitor_id}", {"name": monitor.name})
    _finish(session, changes)
    service.publish_change_deleted(monitor_id)
    return jsonify({"deleted": monitor_id})


@bp.get("/monitors/export")
def monitors_export():
    """Every monitor as JSON, in the format the import takes."""
    return jsonify(service.export_all(database.get_session()))


@bp.post("/monitors/import")
@admin_required
def monitors_import():
    """Create or update (by name) every monitor of an export; all or nothing."""
    session = database.get_session()
    counts = service.import_all(session, json_body(), min_interval=_min_interval())
    audit_admin(session, "monitor.import", "monitors", counts)
    _finish(session, [])
    service.publish_change_deleted(None)
    return jsonify(counts)
