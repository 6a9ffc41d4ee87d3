"""Rules carry labels and annotations; their alerts inherit them; every notification shows them."""
from __future__ import annotations

from sqlalchemy import select

import database
from services.alerts.models import AlertRule
from tests.receivers import (  # noqa: F401 (smtp and webhook are fixtures)
    MEMORY_HIGH, notify_app, only_memory, smtp, tick, webhook,
)

LABELS = {"team": "ml", "service": "trainer"}
ANNOTATIONS = {"summary": "Memory is nearly full on the trainer", "description": "Jobs will be killed.",
               "runbook_url": "https://runbooks.example.com/memory"}


def label_memory_rule(app):
    with database.session_scope(app) as session:
        rule = next(r for r in session.scalars(select(AlertRule)) if (r.params or {}).get("key") == "memory")
        rule.labels, rule.annotations = LABELS, ANNOTATIONS
        return rule.id


def test_alert_inherits_labels_and_every_notification_shows_them(make_app, webhook, smtp):
    controller, inbox = smtp
    app = notify_app(make_app, ALERT_WEBHOOK_URL=webhook.url, SMTP_HOST="127.0.0.1",
                     SMTP_PORT=controller.port, SMTP_TO="ops@example.com")
    only_memory(app, ["webhook", "email"])
    label_memory_rule(app)
    tick(app, MEMORY_HIGH)
    body = webhook.bodies[0]
    assert body["alert"]["labels"] == LABELS and body["alert"]["annotations"] == ANNOTATIONS
    assert "<https://runbooks.example.com/memory|Runbook>" in body["text"]
    assert "Memory is nearly full on the trainer" in body["text"] and "`team=ml`" in body["text"]
    text = inbox.messages[0][1].get_payload(decode=True).decode()
    assert "Runbook: https://runbooks.example.com/memory" in text
    assert "Labels: service=trainer, team=ml" in text and "Description: Jobs will be killed." in text


def test_rules_api_keeps_labels_and_refuses_bad_ones(app, admin_client):
    rule = {"name": "Labelled", "metric": "cpu_percent", "operator": ">", "threshold": 90,
            "labels": LABELS, "annotations": ANNOTATIONS, "severity": "info"}
    created = admin_client.api("POST", "/admin/api/alerts/rules", json=rule)
    assert created.status_code == 201
    got = created.get_json()["rule"]
    assert got["labels"] == LABELS and got["annotations"] == ANNOTATIONS and got["severity"] == "info"
    for bad, words in (({"annotations": {"runbook_url": "javascript:alert(1)"}}, "runbook_url"),
                       ({"annotations": {"owner": "x"}}, "unknown annotation"),
                       ({"labels": {"bad name": "x"}}, "label name"),
                       ({"labels": {"severity": "x"}}, "severity"),
                       ({"labels": {"team": 3}}, "labels.team"),
                       ({"labels": ["team"]}, "labels must be an object")):
        resp = admin_client.api("PUT", f"/admin/api/alerts/rules/{got['id']}", json=bad)
        assert resp.status_code == 400 and words in resp.get_json()["error"]["message"], bad
    again = admin_client.get("/admin/api/alerts/rules").get_json()["rules"]
    assert next(r for r in again if r["name"] == "Labelled")["labels"] == LABELS
