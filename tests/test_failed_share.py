"""One failed-payment share: the alert rule, the exported Prometheus rule and the Grafana panel
give the same number on the same payments.

The panel's figure is the value its "Failed payments" rule records; Prometheus's figures come
from promtool evaluating the exported rule file and the dashboard's query over the status
counts /metrics exposed before and after the payments, as Prometheus would have scraped them
(one scrape a minute over the rule's 15-minute window).
"""
from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

import database
from services.alerts import Alert, AlertRule
from services.alerts import lifecycle as alerts
from services.prometheus import rules as prometheus_rules
from tests.promql import TOKEN, close_to, run_promtool_tests, scrape, series_line
from tests.helpers import INGEST, transaction

DASHBOARD = Path(__file__).resolve().parent.parent / "docs" / "grafana-dashboard.json"
BY_STATUS = "adminpanel_transactions_by_status"


def _tx(tx_id, status, currency="USD", at=None, amount=1000):
    return transaction(tx_id, amount, status=status, currency=currency, at=at)


def _ingest(client, transactions):
    resp = client.post("/api/v1/events", json={"transactions": transactions}, headers=INGEST)
    assert resp.status_code == 202, resp.get_data(as_text=True)


def _series(before, after) -> list[dict]:
    """Status counts as Prometheus stores them: the scrape before at minute 0, after from minute 1."""
    out = []
    for key, count in after[BY_STATUS].items():
        first = before.get(BY_STATUS, {}).get(key, 0.0)
        out.append({"series": series_line(BY_STATUS, dict(key)), "values": f"{first:g} {count:g}x14"})
    return out


def _panel_rule(app):
    """Run the panel's alert rules now; its "Failed payments" alert (or None) and the rule."""
    with database.session_scope(app) as session:
        alerts.evaluate(session, {})
    with database.session_scope(app) as session:
        alert = session.scalar(select(Alert).where(Alert.rule_name == "Failed payments"))
        return None if alert is None else (alert.status, alert.value)


def _exported(client) -> tuple[str, dict]:
    text = client.get("/admin/api/alerts/prometheus-rules").get_data(as_text=True)
    rule = next(r for r in yaml.safe_load(text)["groups"][0]["rules"]
                if r["annotations"]["panel_rule"] == "Failed payments")
    return text, rule


def _grafana_expr() -> str:
    board = json.loads(DASHBOARD.read_text())
    panel = next(p for p in board["panels"] if p["title"].startswith("Failed payment share"))
    return panel["targets"][0]["expr"]


def test_three_shares_are_one_number(make_app, tmp_path):
    app = make_app(METRICS_TOKEN=TOKEN, METRICS_NEW_SERIES_HOLD=0)
    client = app.test_client()
    assert client.login("admin", "admin-password-1").status_code == 302
    # History from before the window, in both currencies: payments three days ago.
    days_ago = database.utcnow() - timedelta(days=3)
    old = _tx("old-1", "completed", "EUR", days_ago)
    _ingest(client, [old, _tx("old-2", "failed", "USD", days_ago)])
    before = scrape(client)
    # The window: payments of two currencies in every status, one pending that fails later,
    # and the old payment refunded (it settled long ago: neither share moves).
    live = ([_tx(f"ok-{i}", "completed") for i in range(5)] + [_tx(f"ko-{i}", "failed") for i in range(2)]
            + [_tx(f"rf-{i}", "refunded") for i in range(2)] + [_tx(f"pd-{i}", "pending") for i in range(4)]
            + [_tx("eur-ok", "completed", "EUR"), _tx("eur-ko", "failed", "EUR")])
    _ingest(client, live)
    _ingest(client, [_tx("pd-0", "failed"), {**old, "status": "refunded"}])
    after = scrape(client)

    status, panel = _panel_rule(app)
    # failed 2 + 1 + 1 (EUR) over settled 5 + 3 + 2 + 1 + 1: 4 / 12.
    assert status == "firing" and panel == 100.0 * 4 / 12

    text, rule = _exported(client)
    share = prometheus_rules.failed_payment_share({"window_minutes": 15, "min_transactions": 5})
    assert rule["expr"] == f"{share} > 10"
    assert _grafana_expr() == share
    run_promtool_tests(tmp_path, text, [{
        "interval": "1m",
        "input_series": _series(before, after),
        "promql_expr_test": [
            {"expr": close_to(share, panel), "eval_time": "15m", "exp_samples": [{"labels": "{}", "value": 1}]},
            {"expr": close_to(_grafana_expr(), panel), "eval_time": "15m",
             "exp_samples": [{"labels": "{}", "value": 1}]},
        ],
        "alert_rule_test": [{"eval_time": "15m", "alertname": rule["alert"], "exp_alerts": [
            {"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}]}],
    }])


def test_below_the_minimum_there_is_no_share_anywhere(make_app, tmp_path):
    app = make_app(METRICS_TOKEN=TOKEN, METRICS_NEW_SERIES_HOLD=0)
    client = app.test_client()
    assert client.login("admin", "admin-password-1").status_code == 302
    _ingest(client, [_tx("seed", "pending")])
    before = scrape(client)
    # Three failures out of four settled payments: 75 %, but under the rule's minimum of five.
    _ingest(client, [_tx(f"ko-{i}", "failed") for i in range(3)] + [_tx("ok", "completed")])
    after = scrape(client)

    assert _panel_rule(app) is None
    with database.session_scope(app) as session:
        from services.alerts import DbProbe, MetricContext

        ctx = MetricContext(session, {}, database.utcnow(), DbProbe())
        rule = session.scalar(select(AlertRule).where(AlertRule.name == "Failed payments"))
        assert math.isnan(ctx.value(rule.metric, rule.params))  # not applicable: too few payments
    text, rule = _exported(client)
    run_promtool_tests(tmp_path, text, [{
        "interval": "1m",
        "input_series": _series(before, after),
        "promql_expr_test": [{"expr": _grafana_expr(), "eval_time": "15m", "exp_samples": []}],
        "alert_rule_test": [{"eval_time": "15m", "alertname": rule["alert"], "exp_alerts": []}],
    }])
