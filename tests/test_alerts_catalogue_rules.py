"""The shipped rules on catalogue metrics fire and resolve exactly where the old figures did.

Before revision 0005 the system and request rules compared the live snapshot's figures and the
failed-payment rule its own sums over the 15-minute rollups. The same stored inputs now go
through the catalogue engine: each rule's value must equal the old figure, and the same rules
must open and clear.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

import database
from services.alerts import Alert, AlertRule, DbProbe
from services.alerts import lifecycle as alerts
from services.ingest.models import CurrencyRollup
from services.live import snapshot as live_snapshot
from services.monitor.models import RequestStat, SystemMetric

T0 = datetime(2026, 11, 18, 14, 7, 30, tzinfo=timezone.utc)
SNAPSHOT_RULES = {"error_rate": ("requests", "error_rate", 100.0), "slow_responses": ("requests", "avg_ms", 1.0),
                  "cpu": ("system", "cpu_percent", 1.0), "memory": ("system", "memory_percent", 1.0),
                  "disk": ("system", "disk_percent", 1.0)}
COMPARE = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}


def _store_traffic(session, now, calm=False):
    minute = now.replace(second=0, microsecond=0)
    for m in range(8):  # minutes 5 to 7 are outside the live window: they must not count
        outside = m >= 5
        session.add(RequestStat(minute=minute - timedelta(minutes=m), endpoint="/a", method="GET", label="app",
                                count=100 + m, errors=(100 + m) if outside else (0 if calm else 3 * m),
                                total_ms=(100 + m) * (200 + 50 * m), max_ms=500.0, buckets={}))
        session.add(RequestStat(minute=minute - timedelta(minutes=m), endpoint="/b", method="POST", label="api",
                                count=40, errors=0 if calm else m, total_ms=40 * (300 if calm else 3000),
                                max_ms=3000.0, buckets={}))
    # Two hosts; the newest sample (host b) is what the snapshot shows.
    session.add(SystemMetric(recorded_at=now - timedelta(seconds=20), host="a", cpu_percent=10.0,
                             memory_percent=99.0, disk_percent=99.0))
    session.add(SystemMetric(recorded_at=now - timedelta(seconds=5), host="b",
                             cpu_percent=40.0 if calm else 93.5, memory_percent=60.0 if calm else 85.5,
                             disk_percent=50.0 if calm else 91.25))


def _old_failed_share(session, now, window_minutes=15, min_transactions=5):
    """The failed_payment_rate reader as it was before revision 0005, verbatim in its sums."""
    bucket = timedelta(minutes=15)
    start = now - timedelta(minutes=window_minutes) - bucket + timedelta(microseconds=1)
    rows = session.scalars(select(CurrencyRollup).where(CurrencyRollup.bucket_start >= start,
                                                        CurrencyRollup.bucket_start < now + bucket)).all()
    failed = sum(r.failed for r in rows)
    settled = sum(r.completed + r.failed + r.refunded for r in rows)
    return None if settled == 0 or settled < min_transactions else 100.0 * failed / settled


def _opened(session):
    return {a.rule_name: a for a in session.scalars(select(Alert).where(Alert.status != "resolved"))}


def test_same_inputs_open_and_clear_the_same_rules_with_the_same_values(app):
    with database.session_scope(app) as session:
        _store_traffic(session, T0)
        # Buckets 14:00 and 13:45 overlap the last 15 minutes; 13:30 (all failures) does not.
        for i, (completed, failed) in enumerate([(20, 3), (9, 4), (7, 20)]):
            session.add(CurrencyRollup(bucket_start=datetime(2026, 11, 18, 14, 0, tzinfo=timezone.utc)
                                       - timedelta(minutes=15 * i),
                                       currency="EUR" if i % 2 else "USD", completed=completed, failed=failed,
                                       refunded=1, pending=4, revenue_cents=1000 * completed))
    with database.session_scope(app) as session:
        rules = {r.params["key"]: r for r in session.scalars(select(AlertRule)) if r.builtin}
        snap = live_snapshot.build(app, session, 1, T0)
        old = {key: snap[part][field] * scale for key, (part, field, scale) in SNAPSHOT_RULES.items()}
        old["failed_payments"] = _old_failed_share(session, T0)
        assert old["failed_payments"] is not None and snap["requests"]["rpm"] > 0
        alerts.evaluate(session, {}, T0, DbProbe())
        session.commit()
        opened = _opened(session)
        expected = {rules[k].name for k, v in old.items() if COMPARE[rules[k].operator](v, rules[k].threshold)}
        assert expected == {"High error rate", "Slow responses", "High CPU use", "High memory use",
                            "Disk almost full", "Failed payments"}  # the inputs breach every one
        assert set(opened) == expected
        for key, value in old.items():
            # The snapshot rounds its figures (4 decimals of a share, 2 of a time); the rule does not.
            assert opened[rules[key].name].value == pytest.approx(value, abs=0.006), key
        assert opened["High CPU use"].status == "pending"  # its five minutes still run

    later = T0 + timedelta(minutes=40)  # the payment buckets are behind; the traffic is calm again
    with database.session_scope(app) as session:
        _store_traffic(session, later, calm=True)
    with database.session_scope(app) as session:
        snap = live_snapshot.build(app, session, 2, later)
        assert snap["requests"]["error_rate"] == 0.0 and _old_failed_share(session, later) is None
        changes = alerts.evaluate(session, {}, later, DbProbe())
        session.commit()
        assert sorted((c.event, c.alert.rule_name) for c in changes) == [
            ("resolved", "Disk almost full"), ("resolved", "Failed payments"), ("resolved", "High error rate"),
            ("resolved", "High memory use"), ("resolved", "Slow responses")]
        assert _opened(session) == {}  # the pending CPU alert left without a trace, as before


def test_no_traffic_clears_the_request_rules_and_no_sample_changes_nothing(app):
    with database.session_scope(app) as session:
        _store_traffic(session, T0)
    with database.session_scope(app) as session:
        alerts.evaluate(session, {}, T0, DbProbe())
        session.commit()
        assert {"High error rate", "Slow responses", "High memory use"} <= set(_opened(session))
    quiet = T0 + timedelta(minutes=6)  # no request in the live window, the last sample 6 minutes old
    with database.session_scope(app) as session:
        assert live_snapshot.build(app, session, 3, quiet)["requests"]["rpm"] == 0
        changes = alerts.evaluate(session, {}, quiet, DbProbe())
        session.commit()
        assert sorted(c.alert.rule_name for c in changes) == ["High error rate", "Slow responses"]
        assert "High memory use" in _opened(session)  # no sample in the window: no verdict
