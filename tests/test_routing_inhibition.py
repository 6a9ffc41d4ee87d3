"""Inhibition: while a source fires, matching targets send nothing but stay visible; a target
notified before still gets its resolved notice; an alert never inhibits itself."""
from __future__ import annotations

from tests.routing_helpers import (  # noqa: F401 (receivers and rapp are fixtures)
    add_inhibition, admin_client_for, catch_up, clear, events, fire, rapp, receivers,
)

DC_DOWN = {"source_matchers": [{"label": "alertname", "op": "=", "value": "dc-down"}],
           "target_matchers": [{"label": "severity", "op": "=~", "value": "warning|critical"}],
           "equal": ["dc"]}


def test_target_is_held_back_while_the_source_fires_and_sent_when_it_ends(rapp, receivers, admin_client_for):
    add_inhibition(rapp, name="datacenter", **DC_DOWN)
    fire(rapp, "dc-down", severity="critical", dc="fra")
    target = fire(rapp, "api-slow", dc="fra")
    other_dc = fire(rapp, "db-slow", dc="ams")
    assert events(receivers.default) == [("fired", ["dc-down is broken"]), ("fired", ["db-slow is broken"])]
    client = admin_client_for(rapp)
    shown = {a["title"]: a for a in client.get("/admin/api/alerts?status=active").get_json()["alerts"]}
    assert shown["api-slow is broken"]["inhibited_by"] == "dc-down is broken"
    assert shown["db-slow is broken"]["inhibited_by"] is None
    detail = client.get(f"/admin/api/alerts/{target}").get_json()["alert"]
    assert [(n["event"], n["status"]) for n in detail["notifications"]] == [("fired", "inhibited")] * 2
    assert other_dc

    clear(rapp, "dc-down")
    catch_up(rapp)
    assert events(receivers.default)[-2:] == [("resolved", ["dc-down is broken"]), ("fired", ["api-slow is broken"])]


def test_a_notified_target_gets_its_resolved_notice_even_while_inhibited(rapp, receivers):
    add_inhibition(rapp, **DC_DOWN)
    fire(rapp, "api-slow", dc="fra")
    fire(rapp, "dc-down", severity="critical", dc="fra")
    clear(rapp, "api-slow")
    assert events(receivers.default) == [("fired", ["api-slow is broken"]), ("fired", ["dc-down is broken"]),
                                         ("resolved", ["api-slow is broken"])]
    assert sum("RESOLVED: api-slow" in s for s in receivers.mail_to("ops@example.com")) == 1


def test_never_notified_target_has_no_resolved_notice(rapp, receivers):
    add_inhibition(rapp, **DC_DOWN)
    fire(rapp, "dc-down", severity="critical", dc="fra")
    fire(rapp, "api-slow", dc="fra")
    clear(rapp, "api-slow")
    assert events(receivers.default) == [("fired", ["dc-down is broken"])]


def test_an_alert_never_inhibits_itself(rapp, receivers):
    # The rule's source also matches as a target: alone, the alert must still be sent.
    add_inhibition(rapp, source_matchers=[{"label": "severity", "op": "=", "value": "critical"}],
                   target_matchers=[{"label": "severity", "op": "=", "value": "critical"}], equal=["dc"])
    fire(rapp, "power-loss", severity="critical", dc="fra")
    assert events(receivers.default) == [("fired", ["power-loss is broken"])]
