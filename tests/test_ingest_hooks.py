"""The in-process hooks: record_transaction, log_user_activity, record_log."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

import database
from services.ingest import Transaction, UserActivity
from services.logs import LogEntry
from services.infra import bus as events
from services.infra import topics
from services.ingest import store as ingest
from services.ingest import rollups

T0 = datetime(2026, 11, 20, 10, 7, tzinfo=timezone.utc)


def buckets(app):
    with database.session_scope(app) as s:
        return rollups.current(s)


def key(moment, currency="USD", channel="web"):
    return (rollups.bucket_start(moment), currency, channel)


def sale(app, **over):
    args = dict(id="o1", amount_cents=2599, currency="USD", status="completed", customer_id="c1",
                created_at=T0, channel="web", app=app)
    args.update(over)
    return ingest.record_transaction(**args)


def test_record_transaction_stores_rolls_up_and_announces(app):
    seen = []
    events.subscribe(topics.TRANSACTION_STORED, seen.append)
    try:
        with app.app_context():  # the current app is the default
            stored = ingest.record_transaction("o1", 2599, "eur", "completed", "c1", T0.isoformat())
    finally:
        events.unsubscribe(topics.TRANSACTION_STORED, seen.append)
    assert stored["currency"] == "EUR" and stored["created_at"] == T0.isoformat()
    assert seen == [stored]
    assert buckets(app) == {key(T0, "EUR", ""): {"completed": 1, "pending": 0, "failed": 0,
                                                   "refunded": 0, "revenue_cents": 2599}}


def test_created_at_defaults_to_now(app):
    before = datetime.now(timezone.utc)
    stored = sale(app, created_at=None)
    assert before <= datetime.fromisoformat(stored["created_at"]) <= datetime.now(timezone.utc)


def test_bad_values_raise_and_store_nothing(app):
    with pytest.raises(ingest.ValidationError) as err:
        sale(app, amount_cents=-5)
    assert err.value.field == "amount_cents"
    with pytest.raises(ingest.ValidationError):
        ingest.log_user_activity("", "login", app=app)
    with pytest.raises(ingest.ValidationError):
        ingest.record_log("web", "CHATTY", "hello", app=app)
    with database.session_scope(app) as s:
        assert s.scalars(select(Transaction)).all() == []


def test_new_amount_currency_channel_or_time_moves_the_bucket(app):
    sale(app)
    sale(app, amount_cents=3000)
    assert buckets(app)[key(T0)]["revenue_cents"] == 3000
    later = T0 + timedelta(minutes=20)  # the next 15-minute bucket
    sale(app, amount_cents=3000, created_at=later, channel="app", currency="GBP")
    assert buckets(app) == {key(later, "GBP", "app"): {"completed": 1, "pending": 0, "failed": 0,
                                                         "refunded": 0, "revenue_cents": 3000}}


def test_missing_channel_on_resend_keeps_the_stored_one(app):
    sale(app, status="pending")
    sale(app, channel=None)
    with database.session_scope(app) as s:
        assert s.get(Transaction, "o1").channel == "web"
    assert list(buckets(app)) == [key(T0)]


def test_an_older_update_arriving_late_is_ignored(app):
    sale(app, status="pending", updated_at=T0)
    sale(app, status="completed", updated_at=T0 + timedelta(minutes=2))
    stale = sale(app, status="pending", updated_at=T0 + timedelta(minutes=1))
    assert stale["status"] == "completed"
    assert buckets(app)[key(T0)]["completed"] == 1 and buckets(app)[key(T0)]["pending"] == 0


def test_change_without_updated_at_is_stamped_now(app):
    sale(app, status="pending")
    before = datetime.now(timezone.utc)
    changed = sale(app, status="failed")
    assert datetime.fromisoformat(changed["updated_at"]) >= before
    unchanged = sale(app, status="failed")
    assert unchanged["updated_at"] == changed["updated_at"]


def test_activity_and_log_hooks(app):
    seen = []
    events.subscribe(topics.ACTIVITY_STORED, seen.append)
    events.subscribe(topics.LOG_STORED, seen.append)
    try:
        act = ingest.log_user_activity("u7", "add_to_cart", "sku-1", app=app)
        line = ingest.record_log("checkout", "error", "card declined", logger="checkout.pay", app=app)
    finally:
        events.unsubscribe(topics.ACTIVITY_STORED, seen.append)
        events.unsubscribe(topics.LOG_STORED, seen.append)
    with database.session_scope(app) as s:
        row = s.scalars(select(UserActivity)).one()
        assert (row.id, row.user_id, row.action, row.detail) == (act["id"], "u7", "add_to_cart", "sku-1")
        entry = s.get(LogEntry, line["id"])
        assert (entry.level, entry.level_no, entry.logger) == ("ERROR", 40, "checkout.pay")
    # The announcement carries the stored row's id: live pages key the feed by it.
    assert seen[0] == {"id": row.id, "user_id": "u7", "action": "add_to_cart", "detail": "sku-1",
                       "created_at": act["created_at"]}
    assert seen[1]["id"] == line["id"] and seen[1]["level"] == "ERROR"


def test_hook_with_a_callers_session_commits_it(app):
    with database.session_scope(app) as s:
        ingest.record_transaction("o9", 100, "USD", "pending", "c9", T0, session=s)
    with database.session_scope(app) as s:
        assert s.get(Transaction, "o9").status == "pending"


def test_a_failing_subscriber_does_not_undo_the_write(app):
    def broken(_payload):
        raise RuntimeError("subscriber bug")

    events.subscribe(topics.TRANSACTION_STORED, broken)
    try:
        sale(app)
    finally:
        events.unsubscribe(topics.TRANSACTION_STORED, broken)
    assert buckets(app)[key(T0)]["completed"] == 1
