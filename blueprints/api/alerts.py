"""Alerts JSON API: the history with filters, the lifecycle moves, snoozes and the rules editor."""
from __future__ import annotations

from dataclasses import astuple

from flask import current_app, jsonify, request
from flask_login import current_user

import database
from services.alerts import Alert
from blueprints.api.base import BadParam, admin_required, audit_admin, bp, int_arg, json_body, time_arg
from blueprints.errors import json_error
from services.alerts import channels as alert_channels
from services.alerts import rules as alert_rules
from services.alerts import lifecycle as alerts
from services.accounts import audit
from services.infra import breaker as circuit_breaker
from services.alerts import notifications
from services.alerts import commit_and_announce
from services.alerts import AlertFilters, FilterError, list_alerts
from services.alerts import RuleError
from services.infra import MAX_ID
from services.alerts import AlertStateError
from services.routing import dispatch



def _state_error(exc: AlertStateError):
    return json_error(exc.status, str(exc))


def _rule_error(exc: RuleError):
    return json_error(409 if exc.conflict else 400, str(exc),
                      "conflict" if exc.conflict else "invalid_rule")


@bp.get("/alerts")
def alerts_list():
    """Alerts newest first: ?status=active|pending|firing|acknowledged|resolved|all, severity,
    rule (id or name), since, until, cursor, limit."""
    try:
        filters = AlertFilters.from_mapping({
            "status": request.args.get("status", "all"), "severity": request.args.get("severity"),
            "rule": request.args.get("rule"), "since": time_arg("since"),
            "until": time_arg("until"), "cursor": int_arg("cursor", None, 1, MAX_ID),
            "limit": int_arg("limit", 100, 1, 500)})
    except FilterError as exc:
        raise BadParam(exc.message, exc.field) from None

    def read():
        session = database.get_session()
        rows, cursor = list_alerts(session, filters)
        now = database.utcnow()
        return {"alerts": dispatch.alert_dicts(session, rows, now), "next_cursor": cursor,
                "counts": alerts.counts(session, now)}

    # Always fresh; while the database is down, the last answer to the same question.
    return jsonify(circuit_breaker.fresh_read(("alerts", astuple(filters)), read))


@bp.get("/alerts/count")
def alerts_count():
    """The bell: firing (unsnoozed) alerts, plus open ones by status."""
    return jsonify(circuit_breaker.fresh_read(("alerts-count",), lambda: (
        alerts.counts(database.get_session()))))


@bp.get("/alerts/<int:alert_id>")
def alert_detail(alert_id: int):
    """One alert with what was sent (or failed) for it."""
    session = database.get_session()
    alert = session.get(Alert, alert_id)
    if alert is None:
        return json_error(404, f"alert {alert_id} does not exist")
    body = {**alerts.alert_to_dict(alert, notifications=notifications.notifications_for(session, alert_id)),
            **dispatch.marks(session, [alert], database.utcnow()).get(alert.id, {})}
    return jsonify({"alert": dispatch.name_channels(session, body)})


def _note_body() -> object:
    return json_body(required=False).get("note")


def _move(alert_id: int, action: str, fn, *args):
    session = database.get_session()
    try:
        change = fn(session, alert_id, *args)
    except AlertStateError as exc:
        session.rollback()
        return _state_error(exc)
    audit_admin(session, action, f"alert:{alert_id}", {"event": change.event, "note": args[-1]
                                                   if action != "alert.snooze" else None})
    commit_and_announce(current_app._get_current_object(), session, [change])
    return jsonify({"alert": alerts.alert_to_dict(change.alert)})


@bp.post("/alerts/<int:alert_id>/acknowledge")
@admin_required
def alert_acknowledge(alert_id: int):
    """Acknowledge a firing alert; body {"note": optional}."""
    return _move(alert_id, "alert.acknowledge", alerts.acknowledge, current_user.username, _note_body())


@bp.post("/alerts/<int:alert_id>/resolve")
@admin_required
def alert_resolve(alert_id: int):
    """Resolve an open alert by hand; body {"note": required}."""
    return _move(alert_id, "alert.resolve", alerts.resolve, current_user.username, _note_body())


@bp.post("/alerts/<int:alert_id>/snooze")
@admin_required
def alert_snooze(alert_id: int):
    """Silence an open alert; body {"minutes": n} (0 ends the snooze)."""
    minutes = json_body().get("minutes")
    session = database.get_session()
    try:
        change = alerts.snooze_alert(session, alert_id, minutes)
    except AlertStateError as exc:
        session.rollback()
        return _state_error(exc)
    audit_admin(session, "alert.snooze", f"alert:{alert_id}", {"minutes": minutes})
    commit_and_announce(current_app._get_current_object(), session, [change])
    return jsonify({"alert": alerts.alert_to_dict(change.alert)})


@bp.get("/alerts/channels")
def channels_list():
    """Each notification channel: configured or not, where it delivers, its last delivery."""
    return jsonify(alert_channels.channel_states(current_app, database.get_session()))


@bp.post("/alerts/channels/<name>/test")
@admin_required
def channel_test(name: str):
    """Send a test message through one channel now and answer whether it was delivered."""
    session = database.get_session()
    try:
        result = alert_channels.send_test(current_app, session, name, current_user.username)
    except alert_channels.UnknownChannel as exc:
        return json_error(404, str(exc))
    except alert_channels.ChannelNotConfigured as exc:
        return json_error(409, str(exc), "not_configured")
    audit.record(session, "alert_channel.test", actor=current_user.username, ip=request.remote_addr,
                 target=f"channel:{name}", outcome="success" if result["delivered"] else "failure",
                 detail={"error": result["error"]} if result["error"] else None)
    session.commit()
    return jsonify(result)


@bp.get("/alerts/rules")
def rules_list():
    """Every rule, and the metrics a rule may watch."""
    now = database.utcnow()
    metrics = [{"name": k, "label": m.label, "unit": m.unit,
                "params": {p: {"min": lo, "max": hi, "default": d} for p, (lo, hi, d) in m.params.items()},
                "text_params": list(alert_rules.TEXT_PARAMS.get(k, ()))}
               for k, m in alert_rules.METRICS.items()]
    body = circuit_breaker.fresh_read(("alert-rules",), lambda: {
        "rules": [alert_rules.rule_to_dict(r, now) for r in alert_rules.list_rules(database.get_session())]})
    return jsonify({**body, "metrics": metrics, "operators": list(alert_rules.OPERATORS),
                    "severities": list(alert_rules.SEVERITIES), "channels": list(alert_rules.CHANNELS)})


@bp.post("/alerts/rules")
@admin_required
def rule_create():
    """Create a rule (201)."""
    session = database.get_session()
    try:
        rule = alert_rules.create_rule(session, json_body())
    except RuleError as exc:
        session.rollback()
        return _rule_error(exc)
    audit_admin(session, "alert_rule.create", f"rule:{rule.id}", {"name": rule.name})
    session.commit()
    return jsonify({"rule": alert_rules.rule_to_dict(rule)}), 201


def _rule_or_404(session, rule_id: int):
    rule = alert_rules.get_rule(session, rule_id)
    if rule is None:
        raise AlertStateError(f"rule {rule_id} does not exist", status=404)
    return rule


@bp.put("/alerts/rules/<int:rule_id>")
@admin_required
def rule_update(rule_id: int):
    """Change some or all fields of a rule; disabling it resolves its open alert."""
    session = database.get_session()
    body = json_body()
    try:
        rule = _rule_or_404(session, rule_id)
        changed = alert_rules.update_rule(session, rule, body)
    except AlertStateError as exc:
        return _state_error(exc)
    except RuleError as exc:
        session.rollback()
        return _rule_error(exc)
    changes = alerts.close_open_alerts(session, rule, "rule disabled") if not rule.enabled else []
    audit_admin(session, "alert_rule.update", f"rule:{rule.id}",
           {k: v[1] for k, v in changed.items()})
    commit_and_announce(current_app._get_current_object(), session, changes)
    return jsonify({"rule": alert_rules.rule_to_dict(rule)})


@bp.delete("/alerts/rules/<int:rule_id>")
@admin_required
def rule_delete(rule_id: int):
    """Delete a custom rule (its open alert is resolved; its history stays)."""
    session = database.get_session()
    try:
        rule = _rule_or_404(session, rule_id)
        name = rule.name
        changes = alerts.delete_rule(session, rule)
    except AlertStateError as exc:
        return _state_error(exc)
    except RuleError as exc:
        session.rollback()
        return _rule_error(exc)
    audit_admin(session, "alert_rule.delete", f"rule:{rule_id}", {"name": name})
    commit_and_announce(current_app._get_current_object(), session, changes)
    return jsonify({"deleted": rule_id})


@bp.post("/alerts/rules/<int:rule_id>/snooze")
@admin_required
def rule_snooze(rule_id: int):
    """Silence a rule; body {"minutes": n} (0 ends the snooze)."""
    minutes = json_body().get("minutes")
    session = database.get_session()
    try:
        rule = _rule_or_404(session, rule_id)
        changes = alerts.snooze_rule(session, rule, minutes)
    except AlertStateError as exc:
        session.rollback()
        return _state_error(exc)
    audit_admin(session, "alert.snooze", f"rule:{rule_id}", {"minutes": minutes})
    commit_and_announce(current_app._get_current_object(), session, changes)
    return jsonify({"rule": alert_rules.rule_to_dict(rule)})
