"""The alerts JSON API: history filters and paging, acknowledge/resolve/snooze, rules, refusals."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import database
from tests import alert_inputs
from services.accounts import AuditLog
from services.alerts import Alert, AlertRule
from services.alerts import lifecycle as alerts

HOT = {"system": {"cpu_percent": 10.0, "memory_percent": 97.0, "disk_percent": 95.0},
       "requests": {"rpm": 50, "avg_ms": 2500.0, "p95_ms": 4000.0, "error_rate": 0.0},
       "database": {"latency_ms": 2.0}}


def fire(app, snapshot=HOT, now=None):
    """Evaluate the shipped rules once on ``snapshot``; returns the alerts by rule name."""
    with database.session_scope(app) as session:
        alert_inputs.evaluate(session, snapshot, now or database.utcnow())
    with database.session_scope(app) as session:
        return {a.rule_name: a.id for a in session.scalars(select(Alert))}


def audit_actions(app):
    with database.session_scope(app) as session:
        return [(a.action, a.actor, a.target) for a in session.scalars(select(AuditLog).order_by(AuditLog.id))
                if a.action.startswith("alert")]


def test_list_filters_by_status_severity_rule_and_time(app, admin_client):
    ids = fire(app)
    assert set(ids) == {"High memory use", "Disk almost full", "Slow responses"}
    body = admin_client.get("/admin/api/alerts?status=active").get_json()
    assert {a["rule"] for a in body["alerts"]} == set(ids)
    assert body["counts"]["firing"] == 3
    first = body["alerts"][0]
    for key in ("id", "rule", "severity", "status", "title", "value", "threshold", "started_at"):
        assert key in first
    crit = admin_client.get("/admin/api/alerts?severity=critical").get_json()["alerts"]
    assert [a["rule"] for a in crit] == ["Disk almost full"]
    by_rule = admin_client.get("/admin/api/alerts?rule=Slow responses").get_json()["alerts"]
    assert [a["value"] for a in by_rule] == [2500.0]
    future = (database.utcnow() + timedelta(hours=1)).isoformat()
    assert admin_client.get("/admin/api/alerts", query_string={"since": future}).get_json()["alerts"] == []
    assert admin_client.get("/admin/api/alerts?status=resolved").get_json()["alerts"] == []


def test_cursor_pages_through_everything_once(app, admin_client):
    fire(app)
    seen, cursor = [], None
    for _ in range(5):
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = admin_client.get("/admin/api/alerts", query_string=query).get_json()
        seen += [a["id"] for a in body["alerts"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 3
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("query", ["status=bogus", "severity=urgent", "since=yesterday",
                                   "limit=0", "cursor=abc"])
def test_bad_filters_are_400(admin_client, query):
    resp = admin_client.get(f"/admin/api/alerts?{query}")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "invalid_parameter"


def test_acknowledge_then_resolve_with_notes_and_audit(app, admin_client):
    alert_id = fire(app)["High memory use"]
    resp = admin_client.api("POST", f"/admin/api/alerts/{alert_id}/acknowledge", json={"note": "looking"})
    assert resp.status_code == 200
    acked = resp.get_json()["alert"]
    assert (acked["status"], acked["acknowledged_by"], acked["ack_note"]) == ("acknowledged", "admin", "looking")
    assert admin_client.get("/admin/api/alerts/count").get_json()["firing"] == 2
    # A resolve needs a note; without one nothing changes.
    resp = admin_client.api("POST", f"/admin/api/alerts/{alert_id}/resolve", json={"note": "  "})
    assert resp.status_code == 400
    resp = admin_client.api("POST", f"/admin/api/alerts/{alert_id}/resolve", json={"note": "restarted worker"})
    done = resp.get_json()["alert"]
    assert (done["status"], done["resolved_by"], done["resolve_note"], done["auto_resolved"]) == \
        ("resolved", "admin", "restarted worker", False)
    # Resolved is final: neither move works again.
    assert admin_client.api("POST", f"/admin/api/alerts/{alert_id}/acknowledge", json={}).status_code == 409
    assert admin_client.api("POST", f"/admin/api/alerts/{alert_id}/resolve",
                            json={"note": "again"}).status_code == 409
    assert admin_client.api("POST", "/admin/api/alerts/99999/acknowledge", json={}).status_code == 404
    assert audit_actions(app) == [("alert.acknowledge", "admin", f"alert:{alert_id}"),
                                  ("alert.resolve", "admin", f"alert:{alert_id}")]
    history = admin_client.get("/admin/api/alerts?status=resolved").get_json()["alerts"]
    assert [a["id"] for a in history] == [alert_id]


def test_resolved_alert_comes_back_as_a_new_one_if_the_condition_holds(app, admin_client):
    alert_id = fire(app)["Disk almost full"]
    admin_client.api("POST", f"/admin/api/alerts/{alert_id}/resolve", json={"note": "cleaned /tmp"})
    again = fire(app)
    assert again["Disk almost full"] != alert_id
    with database.session_scope(app) as session:
        assert session.get(Alert, alert_id).status == "resolved"


def test_snooze_an_alert_and_it_comes_back(app, admin_client):
    alert_id = fire(app)["Slow responses"]
    resp = admin_client.api("POST", f"/admin/api/alerts/{alert_id}/snooze", json={"minutes": 30})
    snoozed = resp.get_json()["alert"]
    assert snoozed["snoozed"] and snoozed["status"] == "firing"
    assert admin_client.get("/admin/api/alerts/count").get_json()["firing"] == 2
    assert admin_client.api("POST", f"/admin/api/alerts/{alert_id}/snooze",
                            json={"minutes": -5}).status_code == 400
    with database.session_scope(app) as session:
        changes = alert_inputs.evaluate(session, HOT, database.utcnow() + timedelta(minutes=31))
    assert [(c.event, c.alert.id) for c in changes] == [("fired", alert_id)]
    assert admin_client.get("/admin/api/alerts/count").get_json()["firing"] == 3
    assert ("alert.snooze", "admin", f"alert:{alert_id}") in audit_actions(app)


def test_snooze_a_rule_keeps_new_alerts_away_until_it_ends(app, admin_client):
    rules = admin_client.get("/admin/api/alerts/rules").get_json()["rules"]
    disk = next(r for r in rules if r["params"].get("name") == "disk_percent")
    resp = admin_client.api("POST", f"/admin/api/alerts/rules/{disk['id']}/snooze", json={"minutes": 60})
    assert resp.get_json()["rule"]["snoozed"] is True
    assert "Disk almost full" not in fire(app)
    later = database.utcnow() + timedelta(minutes=61)
    assert "Disk almost full" in fire(app, now=later)


def test_rules_crud_with_audit(app, admin_client):
    body = {"name": "Queue p95", "metric": "p95_response_ms", "operator": ">=", "threshold": 750,
            "for_seconds": 60, "severity": "info", "channels": ["webhook"]}
    resp = admin_client.api("POST", "/admin/api/alerts/rules", json=body)
    assert resp.status_code == 201
    rule = resp.get_json()["rule"]
    assert {k: rule[k] for k in body} == {**body, "threshold": 750.0}
    assert rule["enabled"] is True
    resp = admin_client.api("PUT", f"/admin/api/alerts/rules/{rule['id']}", json={"threshold": 900, "enabled": False})
    assert resp.get_json()["rule"]["threshold"] == 900.0 and resp.get_json()["rule"]["enabled"] is False
    listed = admin_client.get("/admin/api/alerts/rules").get_json()
    assert "Queue p95" in [r["name"] for r in listed["rules"]]
    assert "revenue_vs_baseline" in [m["name"] for m in listed["metrics"]]
    assert admin_client.api("DELETE", f"/admin/api/alerts/rules/{rule['id']}").get_json() == {"deleted": rule["id"]}
    assert admin_client.api("DELETE", f"/admin/api/alerts/rules/{rule['id']}").status_code == 404
    actions = [a[0] for a in audit_actions(app)]
    assert actions == ["alert_rule.create", "alert_rule.update", "alert_rule.delete"]


def test_disabling_a_rule_resolves_its_alert_and_shipped_rules_are_not_deleted(app, admin_client):
    alert_id = fire(app)["High memory use"]
    with database.session_scope(app) as session:
        rule_id = session.get(Alert, alert_id).rule_id
    admin_client.api("PUT", f"/admin/api/alerts/rules/{rule_id}", json={"enabled": False})
    alert = admin_client.get(f"/admin/api/alerts/{alert_id}").get_json()["alert"]
    assert (alert["status"], alert["auto_resolved"], alert["resolve_note"]) == ("resolved", True, "rule disabled")
    resp = admin_client.api("DELETE", f"/admin/api/alerts/rules/{rule_id}")
    assert resp.status_code == 409
    with database.session_scope(app) as session:
        assert session.get(AlertRule, rule_id) is not None


@pytest.mark.parametrize("body, fragment", [
    ({"metric": "cpu_percent", "operator": ">", "threshold": 1}, "missing field"),
    ({"name": "x", "metric": "cpu_temperature", "operator": ">", "threshold": 1}, "metric must be"),
    ({"name": "x", "metric": "cpu_percent", "operator": "!=", "threshold": 1}, "operator must be"),
    ({"name": "x", "metric": "cpu_percent", "operator": ">", "threshold": "high"}, "threshold"),
    ({"name": "x", "metric": "cpu_percent", "operator": ">", "threshold": 1, "for_seconds": -1}, "for_seconds"),
    ({"name": "x", "metric": "cpu_percent", "operator": ">", "threshold": 1, "severity": "fatal"}, "severity"),
    ({"name": "x", "metric": "cpu_percent", "operator": ">", "threshold": 1, "channels": ["pager"]}, "channels"),
    ({"name": "x", "metric": "cpu_percent", "operator": ">", "threshold": 1, "enabled": "yes"}, "enabled"),
    ({"name": "x", "metric": "cpu_percent", "operator": ">", "threshold": 1, "colour": "red"}, "unknown field"),
    ({"name": "x", "metric": "failed_payment_rate", "operator": ">", "threshold": 1,
      "params": {"window_minutes": 5}}, "params.window_minutes"),
    ({"name": "x", "metric": "cpu_percent", "operator": ">", "threshold": 1,
      "params": {"window_minutes": 30}}, "params not understood"),
])
def test_rule_validation_400_and_nothing_stored(app, admin_client, body, fragment):
    before = len(admin_client.get("/admin/api/alerts/rules").get_json()["rules"])
    resp = admin_client.api("POST", "/admin/api/alerts/rules", json=body)
    assert resp.status_code == 400
    assert fragment in resp.get_json()["error"]["message"]
    assert len(admin_client.get("/admin/api/alerts/rules").get_json()["rules"]) == before


def test_duplicate_rule_name_is_a_conflict(admin_client):
    body = {"name": "high cpu use", "metric": "cpu_percent", "operator": ">", "threshold": 1}
    assert admin_client.api("POST", "/admin/api/alerts/rules", json=body).status_code == 409


def test_viewers_read_but_cannot_change(app, viewer_client):
    alert_id = fire(app)["High memory use"]
    assert viewer_client.get("/admin/api/alerts?status=all").status_code == 200
    assert viewer_client.get("/admin/api/alerts/rules").status_code == 200
    rule_id = viewer_client.get("/admin/api/alerts/rules").get_json()["rules"][0]["id"]
    for method, path, body in [
        ("POST", f"/admin/api/alerts/{alert_id}/acknowledge", {"note": "x"}),
        ("POST", f"/admin/api/alerts/{alert_id}/resolve", {"note": "x"}),
        ("POST", f"/admin/api/alerts/{alert_id}/snooze", {"minutes": 5}),
        ("POST", "/admin/api/alerts/rules", {"name": "v", "metric": "cpu_percent", "operator": ">", "threshold": 1}),
        ("PUT", f"/admin/api/alerts/rules/{rule_id}", {"threshold": 1}),
        ("DELETE", f"/admin/api/alerts/rules/{rule_id}", None),
        ("POST", f"/admin/api/alerts/rules/{rule_id}/snooze", {"minutes": 5}),
    ]:
        assert viewer_client.api(method, path, json=body).status_code == 403, path
    with database.session_scope(app) as session:
        assert session.get(Alert, alert_id).status == "firing"
    assert audit_actions(app) == []


def test_without_csrf_or_login_nothing_changes(app, admin_client, client):
    alert_id = fire(app)["High memory use"]
    resp = admin_client.post(f"/admin/api/alerts/{alert_id}/acknowledge", json={"note": "x"})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "csrf_failed"
    assert client.get("/admin/api/alerts").status_code == 401
    with database.session_scope(app) as session:
        assert session.get(Alert, alert_id).status == "firing"


def test_alerts_page_renders_for_both_roles(admin_client, viewer_client):
    admin_page = admin_client.get("/admin/alerts").get_data(as_text=True)
    assert 'data-can-edit="true"' in admin_page and 'id="alert-bell"' in admin_page
    viewer_page = viewer_client.get("/admin/alerts").get_data(as_text=True)
    assert 'data-can-edit="false"' in viewer_page
    # The bell is on every page, not only on the alerts page.
    assert 'id="alert-bell"' in admin_client.get("/admin/dashboard").get_data(as_text=True)


def test_ending_a_snooze_early_brings_the_alert_back_and_a_no_op_end_does_not(app, admin_client):
    alert_id = fire(app)["Slow responses"]
    heard = []
    from services.infra import bus as events
    from services.infra import topics

    events.subscribe(topics.ALERT_CHANGED, heard.append)
    try:
        admin_client.api("POST", f"/admin/api/alerts/{alert_id}/snooze", json={"minutes": 0})
        admin_client.api("POST", f"/admin/api/alerts/{alert_id}/snooze", json={"minutes": 60})
        admin_client.api("POST", f"/admin/api/alerts/{alert_id}/snooze", json={"minutes": 0})
    finally:
        events.unsubscribe(topics.ALERT_CHANGED, heard.append)
    assert [h["event"] for h in heard] == ["unsnoozed", "snoozed", "fired"]
    assert admin_client.get("/admin/api/alerts/count").get_json()["firing"] == 3
