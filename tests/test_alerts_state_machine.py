"""Lifecycle invariants under any sequence of metric values, clock moves and admin actions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

import database
from tests.alert_inputs import evaluate
from services.alerts import Alert, AlertRule
from services.alerts import lifecycle as alerts
from services.alerts import DbProbe
from services.alerts import AlertStateError

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
OPEN = ("pending", "firing", "acknowledged")
CPU = {"name": "cpu_percent", "match": "", "reducer": "last", "window_seconds": 300}


@pytest.mark.sqlite_only  # many short transactions; the invariants do not depend on the backend
def test_lifecycle_invariants(make_app):
    app = make_app()

    class Lifecycle(RuleBasedStateMachine):
        """Two rules on CPU (one with a 'for' of 60 s) driven by random values and actions."""

        @initialize()
        def setup(self):
            self.now = T0
            self.final: dict[int, tuple] = {}  # resolved alert id -> its frozen fields
            with database.session_scope(app) as session:
                session.execute(Alert.__table__.delete())
                session.execute(AlertRule.__table__.delete())
                session.add_all([
                    AlertRule(name="fast", metric="metric", operator=">", threshold=50.0,
                              for_seconds=0, severity="warning", channels=[], params=CPU),
                    AlertRule(name="slow", metric="metric", operator=">", threshold=70.0,
                              for_seconds=60, severity="critical", channels=[], params=CPU)])

        def _ids(self, status=OPEN):
            with database.session_scope(app) as session:
                return list(session.scalars(select(Alert.id).where(Alert.status.in_(status))))

        @rule(cpu=st.floats(0, 100), seconds=st.integers(0, 90))
        def observe(self, cpu, seconds):
            self.now += timedelta(seconds=seconds)
            with database.session_scope(app) as session:
                evaluate(session, {"system": {"cpu_percent": cpu}}, self.now)

        @rule(index=st.integers(0, 5), note=st.text(min_size=1, max_size=20).filter(str.strip))
        def resolve(self, index, note):
            ids = self._ids()
            if not ids:
                return
            with database.session_scope(app) as session:
                change = alerts.resolve(session, ids[index % len(ids)], "admin", note, self.now)
                assert change.alert.status == "resolved" and change.alert.resolve_note == note.strip()

        @rule(index=st.integers(0, 5))
        def acknowledge(self, index):
            ids = self._ids(("firing",))
            if not ids:
                return
            with database.session_scope(app) as session:
                alerts.acknowledge(session, ids[index % len(ids)], "admin", None, self.now)

        @rule(index=st.integers(0, 5), minutes=st.integers(1, 10))
        def snooze(self, index, minutes):
            ids = self._ids()
            if not ids:
                return
            with database.session_scope(app) as session:
                change = alerts.snooze_alert(session, ids[index % len(ids)], minutes, self.now)
                assert change.alert.snoozed_until == self.now + timedelta(minutes=minutes)

        @precondition(lambda self: bool(self.final))
        @rule(data=st.data())
        def moving_a_resolved_alert_fails(self, data):
            alert_id = data.draw(st.sampled_from(sorted(self.final)))
            with database.session_scope(app) as session:
                for move in (lambda: alerts.acknowledge(session, alert_id, "admin", None, self.now),
                             lambda: alerts.resolve(session, alert_id, "admin", "again", self.now),
                             lambda: alerts.snooze_alert(session, alert_id, 5, self.now)):
                    with pytest.raises(AlertStateError):
                        move()

        @invariant()
        def at_most_one_open_alert_per_rule(self):
            with database.session_scope(app) as session:
                per_rule = session.execute(select(Alert.rule_id, func.count()).where(
                    Alert.status.in_(OPEN)).group_by(Alert.rule_id)).all()
            assert all(n == 1 for _, n in per_rule), per_rule

        @invariant()
        def resolved_is_final(self):
            with database.session_scope(app) as session:
                for alert in session.scalars(select(Alert).where(Alert.status == "resolved")):
                    frozen = (alert.status, alert.resolved_at, alert.resolved_by, alert.resolve_note)
                    assert self.final.setdefault(alert.id, frozen) == frozen
                assert set(self.final) <= set(session.scalars(select(Alert.id)))

        @invariant()
        def snoozes_expire(self):
            with database.session_scope(app) as session:
                for alert in session.scalars(select(Alert)):
                    if alert.snoozed_until is not None and alert.snoozed_until <= self.now:
                        continue  # expiry is applied by the next evaluation
                    assert alerts.is_snoozed(alert, self.now) == (alert.snoozed_until is not None)
                    # However long the snooze, it is over after its end.
                    if alert.snoozed_until is not None:
                        assert not alerts.is_snoozed(alert, alert.snoozed_until)

        @invariant()
        def firing_needs_the_for_duration(self):
            with database.session_scope(app) as session:
                for alert in session.scalars(select(Alert).where(Alert.fired_at.is_not(None))):
                    hold = 60 if alert.rule_name == "slow" else 0
                    assert (alert.fired_at - alert.started_at).total_seconds() >= hold

        @invariant()
        def bell_counts_firing_unsnoozed(self):
            with database.session_scope(app) as session:
                expected = sum(1 for a in session.scalars(select(Alert).where(Alert.status == "firing"))
                               if not alerts.is_snoozed(a, self.now))
                assert alerts.firing_count(session, self.now) == expected

    Lifecycle.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
    Lifecycle.TestCase("runTest").runTest()


@pytest.mark.sqlite_only
def test_snooze_expiry_is_applied_by_evaluation(make_app):
    app = make_app()
    with database.session_scope(app) as session:
        for rule_row in session.scalars(select(AlertRule)):
            rule_row.enabled = (rule_row.params or {}).get("key") == "cpu"
            rule_row.for_seconds = 0
        evaluate(session, {"system": {"cpu_percent": 99.0}}, T0)
        alert = session.scalar(select(Alert))
        alerts.snooze_alert(session, alert.id, 10, T0)
        assert alerts.firing_count(session, T0 + timedelta(minutes=9)) == 0
        assert evaluate(session, {"system": {"cpu_percent": 99.0}}, T0 + timedelta(minutes=9)) == []
        changes = evaluate(session, {"system": {"cpu_percent": 99.0}}, T0 + timedelta(minutes=10))
        assert [(c.event, c.alert.id) for c in changes] == [("fired", alert.id)]
        assert alert.snoozed_until is None
        assert alerts.firing_count(session, T0 + timedelta(minutes=10)) == 1


def test_the_database_refuses_a_second_open_alert_per_rule(app):
    from sqlalchemy.exc import IntegrityError

    with database.session_scope(app) as session:
        rule_id = session.scalar(select(AlertRule.id).limit(1))
        fields = dict(rule_id=rule_id, rule_name="x", metric="cpu_percent", severity="warning",
                      title="x", threshold=1.0, started_at=T0, last_seen_at=T0)
        session.add(Alert(status="firing", **fields))
        session.add(Alert(status="resolved", **fields))
        session.flush()
        session.add(Alert(status="acknowledged", **fields))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
