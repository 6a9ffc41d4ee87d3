"""The policy tree decides where each notification goes, as real receivers see it: first match,
``continue``, grouping several alerts into one message, and repeat reminders (a fake clock)."""
from __future__ import annotations

from datetime import timedelta

import database
from services.alerts import lifecycle as alerts
from tests.routing_helpers import (  # noqa: F401 (receivers and rapp are fixtures)
    add_policy, catch_up, clear, events, fire, rapp, receivers,
)


def test_without_policies_the_settings_channels_get_everything(rapp, receivers):
    fire(rapp, "disk-full")
    assert events(receivers.default) == [("fired", ["disk-full is broken"])]
    assert receivers.mail_to("ops@example.com") == ["[WARNING] FIRING: disk-full is broken (value n/a)"]
    assert receivers.ml.bodies == [] and receivers.mail_to("platform@example.com") == []


def test_team_ml_goes_to_the_ml_contact_point_only(rapp, receivers):
    add_policy(rapp, name="ML", matchers=[{"label": "team", "op": "=", "value": "ml"}],
               contact_points=["ML chat"])
    add_policy(rapp, name="Platform", matchers=[{"label": "team", "op": "=~", "value": "platform|infra"}],
               contact_points=["Platform mail"])
    fire(rapp, "trainer-oom", team="ml")
    fire(rapp, "router-down", team="infra", severity="critical")
    fire(rapp, "unowned")
    assert events(receivers.ml) == [("fired", ["trainer-oom is broken"])]
    assert receivers.mail_to("platform@example.com") == ["[CRITICAL] FIRING: router-down is broken (value n/a)"]
    # Nothing matched the last one: the default policy (the settings channels) took it.
    assert events(receivers.default) == [("fired", ["unowned is broken"])]
    assert len(receivers.mail_to("ops@example.com")) == 1

    clear(rapp, "trainer-oom")
    assert events(receivers.ml)[-1] == ("resolved", ["trainer-oom is broken"])
    assert len(receivers.default.bodies) == 1


def test_continue_sends_to_both_matching_policies(rapp, receivers):
    add_policy(rapp, name="ML", matchers=[{"label": "team", "op": "=", "value": "ml"}],
               contact_points=["ML chat"], **{"continue": True})
    add_policy(rapp, name="Critical", matchers=[{"label": "severity", "op": "=", "value": "critical"}],
               contact_points=["Platform mail"])
    fire(rapp, "gpu-gone", team="ml", severity="critical")
    fire(rapp, "gpu-slow", team="ml", severity="warning")
    assert events(receivers.ml) == [("fired", ["gpu-gone is broken"]), ("fired", ["gpu-slow is broken"])]
    assert receivers.mail_to("platform@example.com") == ["[CRITICAL] FIRING: gpu-gone is broken (value n/a)"]
    assert receivers.default.bodies == []


def test_a_child_policy_refines_its_parent(rapp, receivers):
    parent = add_policy(rapp, name="ML", matchers=[{"label": "team", "op": "=", "value": "ml"}],
                        contact_points=["ML chat"])
    add_policy(rapp, name="ML pages", parent_id=parent,
               matchers=[{"label": "severity", "op": "=", "value": "critical"}], contact_points=["Platform mail"])
    fire(rapp, "a", team="ml", severity="critical")
    fire(rapp, "b", team="ml")
    assert receivers.mail_to("platform@example.com") == ["[CRITICAL] FIRING: a is broken (value n/a)"]
    assert events(receivers.ml) == [("fired", ["b is broken"])]


def test_grouping_puts_three_alerts_in_one_message(rapp, receivers):
    add_policy(rapp, name="ML", matchers=[{"label": "team", "op": "=", "value": "ml"}],
               contact_points=["ML chat"], group_by=["team"], group_wait=1, group_interval=60)
    from services.alerts import external as alert_external

    for key in ("node-1", "node-2", "node-3"):  # raised within the group's wait
        alert_external.raise_alert(key, f"{key} is down", "critical", labels={"team": "ml"}, app=rapp)
    catch_up(rapp)
    assert len(receivers.ml.bodies) == 1
    body = receivers.ml.bodies[0]
    assert sorted(a["title"] for a in body["alerts"]) == ["node-1 is down", "node-2 is down", "node-3 is down"]
    assert body["text"].startswith("[CRITICAL] FIRING: 3 alerts")


def test_repeat_interval_reminds_while_firing_and_unacknowledged(rapp, receivers):
    add_policy(rapp, name="ML", matchers=[{"label": "team", "op": "=", "value": "ml"}],
               contact_points=["ML chat"], repeat_interval=3600)
    alert_id = fire(rapp, "drift", team="ml")
    now = database.utcnow()
    assert catch_up(rapp, now + timedelta(minutes=30)) == []
    assert len(catch_up(rapp, now + timedelta(minutes=61))) == 1
    assert [e for e, _ in events(receivers.ml)] == ["fired", "reminder"]
    assert "STILL FIRING" in receivers.ml.bodies[1]["text"]
    # No second reminder before another interval has passed since the first.
    assert catch_up(rapp, now + timedelta(minutes=62)) == []
    with database.session_scope(rapp) as session:
        alerts.acknowledge(session, alert_id, "admin")
    assert catch_up(rapp, now + timedelta(hours=5)) == []
    assert len(receivers.ml.bodies) == 2
