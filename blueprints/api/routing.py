"""Routing JSON API: contact points, notification policies and inhibition rules (writes: admin)."""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user

import database
from blueprints.api.base import admin_required, audit_admin, bp, json_body
from services.accounts import audit
from services.routing import contact_points, delivery, inhibition, policy


def _commit(action: str, target: str, detail: dict | None = None) -> None:
    """Audit the change as the signed-in admin and commit it with the change itself."""
    session = database.get_session()
    audit_admin(session, action, target, detail)
    session.commit()


@bp.get("/contact-points")
def contact_points_list():
    """Every contact point (the two from the settings first), with its last delivery."""
    return jsonify({"contact_points": contact_points.list_all(current_app, database.get_session())})


@bp.post("/contact-points")
@admin_required
def contact_point_create():
    """Add a contact point: {"name", "kind": "webhook"|"email", "url" | "addresses"} (201)."""
    point = contact_points.create(database.get_session(), json_body())
    _commit("contact_point.create", f"contact_point:{point.id}", {"name": point.name, "kind": point.kind})
    return jsonify({"contact_point": contact_points.to_dict(database.get_session(), point)}), 201


@bp.put("/contact-points/<int:point_id>")
@admin_required
def contact_point_update(point_id: int):
    """Change a contact point."""
    point = contact_points.update(database.get_session(), point_id, json_body(), current_app.config)
    _commit("contact_point.update", f"contact_point:{point.id}", {"name": point.name})
    return jsonify({"contact_point": contact_points.to_dict(database.get_session(), point)})


@bp.delete("/contact-points/<int:point_id>")
@admin_required
def contact_point_delete(point_id: int):
    """Remove a contact point no policy sends to (409 otherwise)."""
    contact_points.delete(database.get_session(), point_id)
    _commit("contact_point.delete", f"contact_point:{point_id}")
    return jsonify({"deleted": point_id})


@bp.post("/contact-points/<int:point_id>/test")
@admin_required
def contact_point_test(point_id: int):
    """Send a test message through a contact point now; answers whether it was delivered."""
    result = delivery.test_point(current_app, database.get_session(), point_id, current_user.username)
    session = database.get_session()
    audit.record(session, "contact_point.test", actor=current_user.username, ip=request.remote_addr,
                 target=f"contact_point:{point_id}", outcome="success" if result["delivered"] else "failure",
                 detail={"error": result["error"]} if result["error"] else None)
    session.commit()
    return jsonify(result)


@bp.get("/notification-policies")
def policies_list():
    """The default policy and every stored policy (flat; ``parent_id`` makes the tree)."""
    return jsonify(policy.list_all(database.get_session(), current_app.config))


@bp.post("/notification-policies")
@admin_required
def policy_create():
    """Add a policy (201)."""
    node = policy.create(database.get_session(), json_body())
    _commit("notification_policy.create", f"policy:{node.id}", policy.to_dict(node))
    return jsonify({"policy": policy.to_dict(node)}), 201


@bp.put("/notification-policies/<int:policy_id>")
@admin_required
def policy_update(policy_id: int):
    """Change some fields of a policy."""
    node = policy.update(database.get_session(), policy_id, json_body())
    _commit("notification_policy.update", f"policy:{node.id}", policy.to_dict(node))
    return jsonify({"policy": policy.to_dict(node)})


@bp.delete("/notification-policies/<int:policy_id>")
@admin_required
def policy_delete(policy_id: int):
    """Remove a policy and the ones below it."""
    policy.delete(database.get_session(), policy_id)
    _commit("notification_policy.delete", f"policy:{policy_id}")
    return jsonify({"deleted": policy_id})


@bp.post("/notification-policies/preview")
def policy_preview():
    """Where an alert with these labels would go: {"labels": {...}, "severity", "alertname"}."""
    return jsonify(policy.preview(database.get_session(), current_app.config, json_body()))


@bp.get("/inhibition-rules")
def inhibition_list():
    """Every inhibition rule."""
    return jsonify({"rules": [inhibition.to_dict(r) for r in inhibition.list_all(database.get_session())]})


@bp.post("/inhibition-rules")
@admin_required
def inhibition_create():
    """Add an inhibition rule {"source_matchers", "target_matchers", "equal"} (201)."""
    rule = inhibition.create(database.get_session(), json_body())
    _commit("inhibition_rule.create", f"inhibition:{rule.id}", inhibition.to_dict(rule))
    return jsonify({"rule": inhibition.to_dict(rule)}), 201


@bp.put("/inhibition-rules/<int:rule_id>")
@admin_required
def inhibition_update(rule_id: int):
    """Change an inhibition rule."""
    rule = inhibition.update(database.get_session(), rule_id, json_body())
    _commit("inhibition_rule.update", f"inhibition:{rule.id}", inhibition.to_dict(rule))
    return jsonify({"rule": inhibition.to_dict(rule)})


@bp.delete("/inhibition-rules/<int:rule_id>")
@admin_required
def inhibition_delete(rule_id: int):
    """Remove an inhibition rule."""
    inhibition.delete(database.get_session(), rule_id)
    _commit("inhibition_rule.delete", f"inhibition:{rule_id}")
    return jsonify({"deleted": rule_id})
