"""The shipped monitor rules (ordinary `metric` rules on catalogue figures) fire and resolve on
real checks: a local HTTP target that fails and recovers, and the database's real connections."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select

import database
from database import utcnow
from services.alerts import Alert, AlertRule, DbProbe
from services.alerts import lifecycle as alerts
from services.alerts import rules as alert_rules
from services.checks import check_once, service
from services.checks.models import Monitor
from tests.checks_target import Target
from tests.helpers import wait_for


@pytest.fixture
def app(make_app):
    return make_app(MONITOR_ALLOW_PRIVATE=True)


@pytest.fixture
def target():
    t = Target()
    yield t
    t.stop()


def _only(app, key):
    """Enable the shipped rule ``key`` only (the others watch other figures)."""
    with database.session_scope(app) as s:
        rules = list(s.scalars(select(AlertRule)))
        for rule in rules:
            rule.enabled = (rule.params or {}).get("key") == key
        return next(r.name for r in rules if r.enabled)


def _evaluate(app, now):
    with database.session_scope(app) as s:
        alerts.evaluate(s, {}, now, DbProbe())
    with database.session_scope(app) as s:
        return [(a.rule_name, a.status, a.value) for a in s.scalars(select(Alert).order_by(Alert.id))
                if a.rule_id is not None]


def _monitor(app, **fields):
    with database.session_scope(app) as s:
        return service.create(s, {"failure_threshold": 1, "recovery_threshold": 1, **fields}).id


def test_the_three_monitor_rules_are_seeded_as_metric_rules(app):
    with database.session_scope(app) as s:
        shipped = {(r.params or {}).get("key"): r for r in alert_rules.list_rules(s)}
    down, external, conns = shipped["monitor_down"], shipped["external_api_failures"], shipped["db_connections"]
    assert {down.metric, external.metric, conns.metric} == {"metric"}
    assert (down.params["name"], down.severity) == ("monitors_down", "critical")
    assert (external.params["match"], external.threshold, external.severity) == ('external="true"', 5.0, "critical")
    assert (conns.params["name"], conns.threshold, conns.severity) == ("db_connections_percent", 90.0, "warning")


def test_monitor_down_for_two_minutes_fires_and_resolves(app, target):
    name = _only(app, "monitor_down")
    mid = _monitor(app, name="shop", kind="http", url=target.url, interval_seconds=30)
    t0 = utcnow() - timedelta(minutes=10)
    check_once(app, mid, t0)
    target.status = 503
    check_once(app, mid, t0 + timedelta(seconds=30))  # down from here
    assert _evaluate(app, t0 + timedelta(seconds=100)) == []  # down for 70 s only
    check_once(app, mid, t0 + timedelta(seconds=60))
    assert _evaluate(app, t0 + timedelta(seconds=151)) == [(name, "firing", 1.0)]
    target.status = 200
    check_once(app, mid, t0 + timedelta(seconds=160))  # up again (recovery_threshold 1)
    assert _evaluate(app, t0 + timedelta(seconds=170)) == [(name, "resolved", 0.0)]
    with database.session_scope(app) as s:
        assert s.get(Monitor, mid).state == "up"


def test_external_api_failures_over_five_in_five_minutes(app, target):
    name = _only(app, "external_api_failures")
    ext = _monitor(app, name="payments", kind="http", url=target.url, interval_seconds=10,
                   labels={"external": "true"})
    own = _monitor(app, name="own page", kind="http", url=target.url, interval_seconds=10)
    target.status = 500
    t0 = utcnow() - timedelta(minutes=20)
    for i in range(5):
        check_once(app, ext, t0 + timedelta(seconds=10 * i))
        check_once(app, own, t0 + timedelta(seconds=10 * i))  # not external: not counted
    assert _evaluate(app, t0 + timedelta(seconds=60)) == []  # 5 failures: not more than 5
    check_once(app, ext, t0 + timedelta(seconds=60))
    assert _evaluate(app, t0 + timedelta(seconds=61)) == [(name, "firing", 6.0)]
    target.status = 200
    check_once(app, ext, t0 + timedelta(seconds=300))
    # The failures leave the five-minute window; the good check counts none.
    assert _evaluate(app, t0 + timedelta(seconds=361)) == [(name, "resolved", 0.0)]


def test_database_connections_rule_on_real_connections(app, db_url):
    name = _only(app, "db_connections")
    mid = _monitor(app, name="database", kind="database", interval_seconds=10)
    t0 = utcnow() - timedelta(minutes=5)
    check_once(app, mid, t0)
    with database.session_scope(app) as s:
        before = (s.get(Monitor, mid).last_detail or {}).get("connections_percent")
    if db_url.startswith("sqlite"):
        assert before is None  # SQLite has no connection limit: the rule has nothing to read
        assert _evaluate(app, t0 + timedelta(seconds=1)) == []
        return
    # Ninety percent of this server's limit would starve everything else on it: the admin's
    # threshold is moved (as the rules page allows) to between the figure before and after
    # opening twenty real connections.
    with database.session_scope(app) as s:
        rule = next(r for r in s.scalars(select(AlertRule)) if r.name == name)
        limit = int(s.get(Monitor, mid).last_detail["max_connections"])
        rule.threshold = threshold = before + 100.0 * 10 / limit
    assert _evaluate(app, t0 + timedelta(seconds=1)) == []
    extra = create_engine(db_url, pool_size=20, max_overflow=0)
    held = [extra.connect() for _ in range(20)]
    try:
        check_once(app, mid, t0 + timedelta(seconds=10))
        [(rule_name, status, value)] = _evaluate(app, t0 + timedelta(seconds=11))
        assert (rule_name, status) == (name, "firing") and value >= before + 100.0 * 15 / limit
    finally:
        for conn in held:
            conn.close()
        extra.dispose()
    # A closed connection's server process leaves pg_stat_activity a moment later (later still
    # on a busy machine): check again, a second apart on the rule's clock, until the figure is
    # back under the threshold.
    moments = iter(t0 + timedelta(seconds=20 + i) for i in range(1000))

    def settled():
        moment = next(moments)
        check_once(app, mid, moment)
        with database.session_scope(app) as s:
            figure = s.get(Monitor, mid).last_detail["connections_percent"]
        return moment if figure < threshold else None

    moment = wait_for(settled, timeout=15, step=0.2)
    assert moment, "the twenty closed connections never left the server's count"
    assert [s for _n, s, _v in _evaluate(app, moment + timedelta(seconds=1))] == ["resolved"]
