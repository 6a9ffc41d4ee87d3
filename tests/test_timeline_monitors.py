"""Monitor down windows on the Overview timeline, priced like alert windows (real checks)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import database
from services.checks import check_once, service
from tests.checks_target import Target
from tests.test_timeline import get, seed


@pytest.fixture
def app(make_app):
    return make_app(MONITOR_ALLOW_PRIVATE=True)


def _monitor(app, name, url):
    with database.session_scope(app) as s:
        return service.create(s, {"name": name, "kind": "http", "url": url, "interval_seconds": 60,
                                  "failure_threshold": 1, "recovery_threshold": 1}).id


def test_monitor_down_windows_carry_money_at_risk(app, admin_client):
    a, b = seed(app)  # sales: 1000 USD in [a+20m, a+50m), 4000 in that window a week earlier
    target, other = Target(), Target()
    try:
        shop, api = _monitor(app, "shop", target.url), _monitor(app, "api", other.url)
        check_once(app, shop, a + timedelta(minutes=10))
        target.status = 502
        check_once(app, shop, a + timedelta(minutes=20))  # down
        check_once(app, shop, a + timedelta(minutes=30))  # still down: no new window
        target.status = 200
        check_once(app, shop, a + timedelta(minutes=50))  # up
        check_once(app, api, b - timedelta(minutes=5))
        other.status = 500
        check_once(app, api, b)  # down, still
    finally:
        target.stop()
        other.stop()
    windows = get(admin_client)["monitor_windows"]
    assert [(w["title"], w["open"]) for w in windows] == [("Monitor shop down", False), ("Monitor api down", True)]
    closed, open_ = windows
    assert datetime.fromisoformat(closed["started_at"]) == a + timedelta(minutes=20)
    assert datetime.fromisoformat(closed["ended_at"]) == a + timedelta(minutes=50)
    # The same figures as the alert over the same window (tests.test_timeline).
    assert closed["money_at_risk"] == [{"currency": "USD", "during_cents": 1000, "week_before_cents": 4000,
                                        "difference_cents": -3000, "change": -0.75}]
    assert datetime.fromisoformat(open_["started_at"]) == b
    usd = {m["currency"]: m for m in open_["money_at_risk"]}["USD"]
    assert (usd["during_cents"], usd["week_before_cents"]) == (4000, 0)
