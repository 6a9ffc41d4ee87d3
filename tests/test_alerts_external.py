"""Alerts from code and scripts: fired, sent again (deduplicated), resolved, through the same
lifecycle and notifications as a rule's alerts."""
from __future__ import annotations

from sqlalchemy import func, select

import database
from services.alerts.models import Alert
from services.alerts import external as alert_external
from tests.routing_helpers import (  # noqa: F401 (fixtures)
    admin_client_for, drain, events, rapp, receivers,
)

ITEM = {"key": "etl-nightly", "status": "firing", "title": "Nightly ETL failed", "severity": "critical",
        "labels": {"team": "data", "service": "etl"},
        "annotations": {"summary": "The load step timed out", "runbook_url": "https://runbooks.example.com/etl"}}


def token(client, scope):
    resp = client.api("POST", "/admin/api/tokens", json={"name": f"{scope} job", "scope": scope})
    return {"Authorization": f"Bearer {resp.get_json()['secret']}"}


def test_a_script_fires_repeats_and_resolves_an_alert(rapp, receivers, admin_client_for):
    admin = admin_client_for(rapp)
    script, write = rapp.test_client(), token(admin, "read-write")
    first = script.post("/admin/api/alerts/external", json=ITEM, headers=write)
    assert first.status_code == 200 and first.get_json()["changed"] is True
    alert = first.get_json()["alert"]
    assert alert["status"] == "firing" and alert["labels"] == ITEM["labels"] and alert["threshold"] is None
    drain(rapp)  # a message shows the alert as it is when sent
    again = script.post("/admin/api/alerts/external", json={**ITEM, "title": "Nightly ETL failed twice"},
                        headers=write)
    assert again.get_json()["changed"] is False and again.get_json()["alert"]["id"] == alert["id"]
    drain(rapp)
    assert events(receivers.default) == [("fired", ["Nightly ETL failed"])]
    assert "<https://runbooks.example.com/etl|Runbook>" in receivers.default.bodies[0]["text"]

    done = script.post("/admin/api/alerts/external", json={"key": "etl-nightly", "status": "resolved"},
                       headers=write)
    assert done.get_json()["alert"]["status"] == "resolved"
    drain(rapp)
    assert events(receivers.default)[-1] == ("resolved", ["Nightly ETL failed twice"])
    with database.session_scope(rapp) as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 1
    # Resolving what is not open changes nothing.
    assert script.post("/admin/api/alerts/external", json={"key": "etl-nightly", "status": "resolved"},
                       headers=write).get_json() == {"alert": None, "changed": False}


def test_read_tokens_and_bad_items_are_refused(rapp, admin_client_for):
    admin = admin_client_for(rapp)
    script = rapp.test_client()
    assert script.post("/admin/api/alerts/external", json=ITEM, headers=token(admin, "read")).status_code == 403
    for body, field in (({**ITEM, "severity": "fatal"}, "severity"), ({**ITEM, "status": "open"}, "status"),
                        ({**ITEM, "title": ""}, "title"), ({**ITEM, "labels": {"1x": "y"}}, "labels"),
                        ({**ITEM, "started_at": "yesterday"}, "started_at"), ({"status": "resolved"}, "key")):
        resp = admin.api("POST", "/admin/api/alerts/external", json=body)
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == field, body
    with database.session_scope(rapp) as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 0


def test_in_process_raise_and_resolve_with_a_fingerprint_for_keyless_alerts(rapp, receivers):
    first = alert_external.raise_alert("cache-cold", "Cache is cold", "info", labels={"service": "web"}, app=rapp)
    assert alert_external.raise_alert("cache-cold", "Cache is cold", "info", app=rapp) == first
    assert alert_external.resolve_alert("cache-cold", app=rapp) is True
    assert alert_external.resolve_alert("cache-cold", app=rapp) is False
    drain(rapp)
    assert events(receivers.default) == [("fired", ["Cache is cold"]), ("resolved", ["Cache is cold"])]
    one = alert_external.clean({"title": "Disk", "labels": {"host": "a"}})
    assert one["key"] == alert_external.clean({"title": "Disk", "labels": {"host": "a"}})["key"]
    assert one["key"] != alert_external.clean({"title": "Disk", "labels": {"host": "b"}})["key"]


def test_other_services_send_alerts_in_the_ingest_api(rapp, receivers):
    client = rapp.test_client()
    key = {"Authorization": "Bearer test-ingest-key"}
    item = {k: v for k, v in ITEM.items()}
    sent = client.post("/api/v1/events", headers=key, json={"alerts": [item], "logs": [
        {"service": "etl", "level": "ERROR", "message": "load timed out"}]})
    assert sent.status_code == 202 and sent.get_json()["accepted"] == {
        "transactions": 0, "activities": 0, "logs": 1, "alerts": 1}
    assert client.post("/api/v1/events", headers=key, json={"alerts": [item]}).status_code == 202
    drain(rapp)
    assert events(receivers.default) == [("fired", ["Nightly ETL failed"])]
    bad = client.post("/api/v1/events", headers=key, json={"alerts": [{"key": "x", "status": "firing"}],
                                                           "logs": [{"service": "a", "level": "INFO", "message": "m"}]})
    assert bad.status_code == 400 and bad.get_json()["error"]["index"] == 0
    assert "title" in bad.get_json()["error"]["message"]
    done = client.post("/api/v1/events", headers=key, json={"alerts": [{"key": "etl-nightly", "status": "resolved"}]})
    assert done.status_code == 202
    drain(rapp)
    assert events(receivers.default)[-1] == ("resolved", ["Nightly ETL failed"])
    with database.session_scope(rapp) as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 1
