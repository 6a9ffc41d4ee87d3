"""Demo mode: believable history, live traffic through the hooks, a real demo server."""
from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import func, select

import database
from database import utcnow
from services.accounts import AuditLog
from services.ingest import Transaction, UserActivity
from services.logs import LogEntry
from services.demo import mode as demo
from services.infra import bus as events
from services.infra import topics
from services.ingest import rollups
from services.demo import Shop
from tests.servers import start_server


def quiet(*_args, **_kwargs):
    return None


def test_backfill_looks_like_a_shop(app):
    now = datetime(2026, 11, 20, 20, 0, tzinfo=timezone.utc)  # a Friday evening: fixed, so no flakes
    result = demo.backfill(app, 2, now=now, rng=random.Random(5), progress=quiet)
    assert result["transactions"] > 5000
    with database.session_scope(app) as s:
        txs = s.execute(select(Transaction.status, Transaction.currency, Transaction.channel,
                               Transaction.customer_id, Transaction.created_at)).all()
        assert len(txs) == result["transactions"]
        statuses = Counter(t.status for t in txs)
        assert 0.01 < statuses["failed"] / len(txs) < 0.10
        assert statuses["completed"] / len(txs) > 0.85 and statuses["refunded"] > 0
        # pending payments are mostly the ones still settling, from the last few minutes
        recent_pending = sum(1 for t in txs if t.status == "pending" and t.created_at > now - timedelta(minutes=5))
        assert recent_pending >= 5 and statuses["pending"] - recent_pending < 0.005 * len(txs)
        currencies = Counter(t.currency for t in txs)
        assert set(currencies) == {"USD", "EUR", "GBP"} and currencies.most_common(1)[0][0] == "USD"
        assert set(t.channel for t in txs) == {"web", "app", "amazon"}
        per_customer = Counter(t.customer_id for t in txs)
        assert sum(1 for n in per_customer.values() if n >= 2) > len(per_customer) / 10  # people come back
        assert all(now - timedelta(days=2, minutes=1) <= t.created_at <= now for t in txs)
        hours = Counter(a.hour for a in s.scalars(select(UserActivity.created_at)))
        assert sum(hours[h] for h in (18, 19, 20)) > 3 * sum(hours[h] for h in (2, 3, 4))  # evenings, not nights
        levels = set(s.scalars(select(LogEntry.level).distinct()))
        services_ = set(s.scalars(select(LogEntry.service).distinct()))
        assert {"INFO", "WARNING", "ERROR"} <= levels and len(services_) >= 4
        assert s.scalar(select(func.count()).select_from(UserActivity)) == result["activities"]
        assert rollups.current(s) == rollups.recompute(s)  # rollups computed for the history
    assert demo.backfill(app, 2, progress=quiet) is None  # only on a first start


def test_backfill_has_failure_bursts():
    shop = Shop(random.Random(11), utcnow())
    start = utcnow() - timedelta(days=30)
    shop.plan_outages(start, utcnow())
    assert shop.outages, "30 days without a single outage"
    begin, _ = shop.outages[0]
    during = [shop.settle(shop.order(begin), begin)["status"] for _ in range(400)]
    assert during.count("failed") > 100  # far above the usual ~3%


def test_backfill_outages_lie_inside_the_past_range():
    """A short backfill (a fifth of a day) plans no outage beyond its end: one still running at
    the start would replace the live demo's early outage, which could then come hours later."""
    end = utcnow()
    start = end - timedelta(days=0.2)
    planned = []
    for seed in range(300):
        shop = Shop(random.Random(seed), end)
        shop.plan_outages(start, end)
        planned += shop.outages
    assert len(planned) > 20  # about 15 % of the seeds plan one
    assert all(start <= begin < finish <= end for begin, finish in planned)
    assert all(timedelta(minutes=15) <= finish - begin <= timedelta(minutes=50) for begin, finish in planned)


def test_live_traffic_settles_pending_orders_and_stays_exact(app):
    traffic = demo.LiveTraffic(app, Shop(random.Random(3), utcnow()), rate_multiplier=30)
    moment = utcnow()
    stored = sum(traffic.tick(moment + timedelta(seconds=i)) for i in range(45))
    assert stored > 0
    with database.session_scope(app) as s:
        statuses = Counter(s.scalars(select(Transaction.status)))
        assert statuses["completed"] > 0  # created pending, settled by later ticks
        assert rollups.current(s) == rollups.recompute(s)
        assert s.scalar(select(func.count()).select_from(UserActivity)) > 0


def test_live_generator_records_through_the_hooks(app):
    arrived = threading.Event()
    seen = []

    def on_tx(payload):
        seen.append(payload)
        arrived.set()

    events.subscribe(topics.TRANSACTION_STORED, on_tx)
    try:
        demo.start_live(app, rate_multiplier=120, interval=0.2, visit_panel=False)
        assert arrived.wait(15), "no transaction within 15 s"
    finally:
        demo.stop()
        events.unsubscribe(topics.TRANSACTION_STORED, on_tx)
    with database.session_scope(app) as s:
        assert s.get(Transaction, seen[0]["id"]) is not None


def test_monitor_password_is_new_on_every_start(app):
    first = demo.ensure_monitor(app)
    second = demo.ensure_monitor(app)
    assert first != second
    from services.accounts import users
    with database.session_scope(app) as s:
        assert users.authenticate(s, demo.MONITOR_USERNAME, second).role == "viewer"
        assert users.authenticate(s, demo.MONITOR_USERNAME, first) is None


@pytest.mark.sqlite_only
def test_demo_server_backfills_serves_and_visits_itself(tmp_path, db_url):
    server = start_server(tmp_path, env={"DEMO_BACKFILL_DAYS": "0.5"}, demo=True)
    try:
        password = server.wait_for_log(r"log in as\s+demo / (\S+)").group(1)
        assert "Demo: 0.5 days of history" in server.log()
        http = requests.Session()
        token = re.search(r'name="csrf-token" content="([^"]+)"', http.get(f"{server.url}/admin/login").text)
        resp = http.post(f"{server.url}/admin/login", allow_redirects=False,
                         data={"username": "demo", "password": password, "csrf_token": token.group(1)})
        assert resp.status_code == 302
        engine = database.make_engine(f"sqlite:///{tmp_path}/server.db")
        try:
            deadline = time.monotonic() + 20
            monitor_logins = 0
            while time.monotonic() < deadline and not monitor_logins:
                time.sleep(0.5)
                with engine.connect() as conn:
                    monitor_logins = conn.scalar(select(func.count()).select_from(AuditLog).where(
                        AuditLog.actor == demo.MONITOR_USERNAME, AuditLog.action == "login",
                        AuditLog.outcome == "success"))
            assert monitor_logins, "the demo monitor never logged in over HTTP"
            with engine.connect() as conn:
                assert conn.scalar(select(func.count()).select_from(Transaction)) > 100
        finally:
            engine.dispose()
    finally:
        server.stop()


@pytest.mark.sqlite_only
def test_a_failing_step_is_logged_and_the_loop_goes_on(app, caplog):
    calls = []

    def step():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        if len(calls) == 3:
            demo._stop.set()

    demo._stop.clear()
    try:
        demo._loop("test", 0.01, step)
    finally:
        demo._stop.clear()
    assert len(calls) == 3 and "database went away" in caplog.text
