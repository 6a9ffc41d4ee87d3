"""Each shipped rule fires on crafted data and clears when the data does (fake clock)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

import database
from services.alerts import Alert, AlertRule
from services.alerts import rules as alert_rules
from services.alerts import lifecycle as alerts
from services.ingest import store as ingest
from services.alerts import DbProbe
from tests import alert_inputs
from tests.helpers import transaction

# A Wednesday afternoon, safely in the past (ingest refuses times more than a day ahead).
T0 = datetime(2026, 11, 18, 14, 7, 30, tzinfo=timezone.utc)
CALM = {"system": {"cpu_percent": 20.0, "memory_percent": 40.0, "disk_percent": 50.0},
        "requests": {"rpm": 120, "avg_ms": 80.0, "p95_ms": 200.0, "error_rate": 0.01},
        "database": {"latency_ms": 3.0}}


def snap(**parts):
    """CALM with some parts replaced, e.g. snap(system={"cpu_percent": 95})."""
    out = {k: dict(v) for k, v in CALM.items()}
    for key, value in parts.items():
        out[key].update(value)
    return out


def only(session, key):
    """Disable every shipped rule but ``key``, so a test sees that one rule's behaviour."""
    rules = list(session.scalars(select(AlertRule)))
    for rule in rules:
        rule.enabled = (rule.params or {}).get("key") == key
    session.flush()
    return next(r for r in rules if r.enabled)


def step(session, snapshot, now, probe=None):
    """One evaluation; returns [(event, rule_name)]."""
    changes = alert_inputs.evaluate(session, snapshot, now, probe)
    session.commit()
    return [(c.event, c.alert.rule_name) for c in changes]


def statuses(session):
    return [(a.rule_name, a.status) for a in session.scalars(select(Alert).order_by(Alert.id))]


def test_defaults_seeded_once_and_all_shipped(app):
    with database.session_scope(app) as session:
        first = {r.name: r for r in alert_rules.list_rules(session)}
        assert alert_rules.seed_defaults(session) == 0  # idempotent: a second start adds nothing
    assert len(first) == len(alert_rules.DEFAULT_RULES) == 14
    cpu = first["High CPU use"]
    assert (cpu.metric, cpu.operator, cpu.threshold, cpu.for_seconds, cpu.severity) == \
        ("metric", ">", 80.0, 300, "warning")
    # A rule on the catalogue's cpu_percent: the newest sample of the last five minutes.
    assert {k: cpu.params[k] for k in ("name", "reducer", "window_seconds")} == \
        {"name": "cpu_percent", "reducer": "last", "window_seconds": 300}
    assert first["High error rate"].severity == "critical"
    assert first["Disk almost full"].threshold == 90.0


@pytest.mark.parametrize("key, bad, good, severity", [
    ("error_rate", {"requests": {"error_rate": 0.06}}, {"requests": {"error_rate": 0.04}}, "critical"),
    ("slow_responses", {"requests": {"avg_ms": 1200.0}}, {"requests": {"avg_ms": 900.0}}, "warning"),
    ("memory", {"system": {"memory_percent": 86.0}}, {"system": {"memory_percent": 84.0}}, "warning"),
    ("disk", {"system": {"disk_percent": 91.0}}, {"system": {"disk_percent": 89.0}}, "critical"),
    ("db_latency", {"database": {"latency_ms": 750.0}}, {"database": {"latency_ms": 4.0}}, "critical"),
])
def test_snapshot_rule_fires_and_clears(app, key, bad, good, severity):
    with database.session_scope(app) as session:
        rule = only(session, key)
        assert step(session, snap(), T0) == []
        assert step(session, snap(**bad), T0 + timedelta(seconds=5)) == [("fired", rule.name)]
        alert = session.scalar(select(Alert))
        assert (alert.status, alert.severity, alert.fired_at) == ("firing", severity, T0 + timedelta(seconds=5))
        assert step(session, snap(**bad), T0 + timedelta(seconds=10)) == []  # no duplicate
        assert step(session, snap(**good), T0 + timedelta(seconds=15)) == [("resolved", rule.name)]
        session.refresh(alert)
        assert alert.auto_resolved and alert.resolved_at == T0 + timedelta(seconds=15)
        assert alert.resolved_by is None


def test_cpu_needs_five_minutes_with_a_fake_clock(app):
    with database.session_scope(app) as session:
        only(session, "cpu")
        hot = snap(system={"cpu_percent": 95.0})
        assert step(session, hot, T0) == []
        assert statuses(session) == [("High CPU use", "pending")]
        assert step(session, hot, T0 + timedelta(seconds=299)) == []
        assert alerts.firing_count(session, T0) == 0
        assert step(session, hot, T0 + timedelta(seconds=300)) == [("fired", "High CPU use")]
        assert alerts.firing_count(session, T0 + timedelta(seconds=300)) == 1
        assert step(session, snap(), T0 + timedelta(seconds=400)) == [("resolved", "High CPU use")]


def test_cpu_spike_shorter_than_for_leaves_no_alert(app):
    with database.session_scope(app) as session:
        only(session, "cpu")
        assert step(session, snap(system={"cpu_percent": 99.0}), T0) == []
        assert step(session, snap(), T0 + timedelta(seconds=60)) == []
        assert statuses(session) == []  # a pending alert that never fired leaves no history
        # The clock restarts: a new breach needs its own five minutes.
        hot = snap(system={"cpu_percent": 99.0})
        assert step(session, hot, T0 + timedelta(seconds=120)) == []
        assert step(session, hot, T0 + timedelta(seconds=400)) == []
        assert step(session, hot, T0 + timedelta(seconds=420)) == [("fired", "High CPU use")]


def test_worst_value_and_last_seen_follow_while_firing(app):
    with database.session_scope(app) as session:
        only(session, "memory")
        for i, mem in enumerate([88.0, 97.5, 90.0]):
            step(session, snap(system={"memory_percent": mem}), T0 + timedelta(seconds=5 * i))
        alert = session.scalar(select(Alert))
        assert (alert.value, alert.worst_value) == (90.0, 97.5)
        assert alert.last_seen_at == T0 + timedelta(seconds=10)
        assert alert.started_at == T0


def test_no_traffic_is_not_slow_and_missing_data_changes_nothing(app):
    with database.session_scope(app) as session:
        only(session, "slow_responses")
        step(session, snap(requests={"avg_ms": 3000.0}), T0)
        assert statuses(session) == [("Slow responses", "firing")]
        # A snapshot without a requests part (e.g. before the first flush): no verdict.
        assert step(session, {"system": CALM["system"]}, T0 + timedelta(seconds=5)) == []
        # No traffic at all: nothing is slow any more.
        assert step(session, snap(requests={"rpm": 0, "avg_ms": None}), T0 + timedelta(seconds=10)) \
            == [("resolved", "Slow responses")]
        assert session.scalar(select(Alert)).value == 3000.0


def test_db_connection_failures_fire_and_clear_after_the_window(app):
    probe = DbProbe()
    with database.session_scope(app) as session:
        rule = only(session, "db_failures")
        assert step(session, snap(), T0, probe) == []
        probe.note_failure(T0 + timedelta(seconds=1))
        assert step(session, snap(), T0 + timedelta(seconds=5), probe) == [("fired", rule.name)]
        assert session.scalar(select(Alert)).value == 1.0
        assert step(session, snap(), T0 + timedelta(minutes=5, seconds=2), probe) == [("resolved", rule.name)]


def test_own_probe_measures_a_live_database(app):
    probe = DbProbe()
    with database.session_scope(app) as session:
        rule = only(session, "db_latency")
        # No latency in the snapshot: the evaluator times SELECT 1 itself, which is fast here.
        assert step(session, {"system": CALM["system"]}, T0, probe) == []
        rule.threshold = 0.0  # any real round trip is > 0 ms
        assert step(session, {"system": CALM["system"]}, T0 + timedelta(seconds=5), probe) == \
            [("fired", rule.name)]
        assert session.scalar(select(Alert)).value > 0


def tx(n, status, at, amount=1000, prefix="t"):
    return [transaction(f"{prefix}-{status}-{at:%d%H%M}-{i}", amount, status=status, currency="EUR",
                        at=at, customer_id=f"c{i}") for i in range(n)]


def test_failed_payment_rate_fires_over_the_window_and_clears(app):
    with database.session_scope(app) as session:
        rule = only(session, "failed_payments")
        ingest.ingest_batch(session, {"transactions": tx(8, "completed", T0 - timedelta(minutes=5))})
        assert step(session, snap(), T0) == []
        ingest.ingest_batch(session, {"transactions": tx(2, "failed", T0 - timedelta(minutes=3))})
        assert step(session, snap(), T0 + timedelta(seconds=5)) == [("fired", rule.name)]
        assert session.scalar(select(Alert)).value == pytest.approx(20.0)  # 2 of 10
        # Forty minutes later those payments are out of the window: nothing left to page about.
        assert step(session, snap(), T0 + timedelta(minutes=40)) == [("resolved", rule.name)]


def test_failed_payment_rate_ignores_a_tiny_sample(app):
    with database.session_scope(app) as session:
        only(session, "failed_payments")
        ingest.ingest_batch(session, {"transactions": tx(3, "failed", T0 - timedelta(minutes=2))})
        assert step(session, snap(), T0) == []  # 3 payments < min_transactions (5)


def test_no_completed_transactions_compared_with_last_week(app):
    with database.session_scope(app) as session:
        rule = only(session, "no_sales")
        ingest.ingest_batch(session, {"transactions": tx(1, "completed", T0 - timedelta(minutes=31))})
        # The same hour last week was quiet: a quiet hour now is normal.
        assert step(session, snap(), T0) == []
        ingest.ingest_batch(session, {"transactions": tx(3, "completed", T0 - timedelta(days=7),
                                                         prefix="lw")})
        assert step(session, snap(), T0 + timedelta(seconds=5)) == [("fired", rule.name)]
        assert session.scalar(select(Alert)).value == pytest.approx(31 + 5 / 60, abs=0.01)
        ingest.ingest_batch(session, {"transactions": tx(1, "completed", T0, prefix="now")})
        assert step(session, snap(), T0 + timedelta(seconds=10)) == [("resolved", rule.name)]


def test_revenue_drop_against_the_four_week_average(app):
    end = T0.replace(minute=0, second=0)  # the last complete hour is 13:00-14:00
    with database.session_scope(app) as session:
        rule = only(session, "revenue_drop")
        assert step(session, snap(), T0) == []  # no history: no baseline, no alert
        for week in range(1, 5):  # 10,000 cents per past week in the same hour
            ingest.ingest_batch(session, {"transactions": tx(
                10, "completed", end - timedelta(weeks=week, minutes=30), prefix=f"w{week}")})
        ingest.ingest_batch(session, {"transactions": tx(4, "completed", end - timedelta(minutes=20))})
        assert step(session, snap(), T0 + timedelta(seconds=5)) == [("fired", rule.name)]
        assert session.scalar(select(Alert)).value == pytest.approx(40.0)  # 4,000 of 10,000
        ingest.ingest_batch(session, {"transactions": tx(2, "completed", end - timedelta(minutes=10),
                                                         prefix="more")})
        assert step(session, snap(), T0 + timedelta(seconds=10)) == [("resolved", rule.name)]
