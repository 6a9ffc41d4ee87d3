"""Revenue rollups and customers' first-seen times stay exactly equal to a recomputation
from the raw rows."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, select, update

import database
from services.ingest import CurrencyRollup, CustomerFirstSeen, RevenueRollup, Transaction
from services.ingest import first_seen
from services.ingest import store as ingest
from services.ingest import rollups

T0 = datetime(2026, 11, 20, 9, 50, tzinfo=timezone.utc)
# Times on both sides of 15-minute borders (10:00, 10:15).
TIMES = [T0 + timedelta(minutes=m) for m in (0, 9, 10, 14, 25, 26, 40)]


def clear(app):
    with database.session_scope(app) as s:
        s.execute(delete(Transaction))
        s.execute(delete(RevenueRollup))
        s.execute(delete(CurrencyRollup))
        s.execute(delete(CustomerFirstSeen))


def raw_rows(session):
    cols = ("id", "amount_cents", "currency", "status", "channel", "created_at")
    return [dict(zip(cols, r)) for r in session.execute(select(*(getattr(Transaction, c) for c in cols)))]


def assert_exact(app):
    """Stored rollups == SQL recomputation == Python recomputation of the raw rows."""
    with database.session_scope(app) as s:
        stored = rollups.current(s)
        assert stored == rollups.recompute(s)
        assert stored == rollups.expected_from(raw_rows(s))
        assert rollups.current_per_currency(s) == rollups.per_currency(stored)
        assert first_seen.current(s) == first_seen.recompute(s)
        return stored


items = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c", "d", "e"]),
     "amount_cents": st.integers(0, 10**7),
     "currency": st.sampled_from(["USD", "EUR"]),
     "status": st.sampled_from(["completed", "pending", "failed", "refunded"]),
     # Two customers: a re-send may move a transaction to the other one.
     "customer_id": st.sampled_from(["c1", "c2"]),
     "created_at": st.sampled_from(TIMES).map(datetime.isoformat)},
    optional={"channel": st.sampled_from([None, "web", "app"]),
              "updated_at": st.sampled_from(TIMES[3:]).map(lambda t: (t + timedelta(hours=1)).isoformat())},
)


def test_rollups_equal_recomputation_for_any_sequence(make_app):
    app = make_app()

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=st.lists(st.lists(items, min_size=1, max_size=6), min_size=1, max_size=5),
           use_hook=st.booleans())
    def check(batches, use_hook):
        clear(app)
        for batch in batches:
            if use_hook and len(batch) == 1:
                ingest.record_transaction(**batch[0], app=app)
            else:
                with database.session_scope(app) as s:
                    ingest.ingest_batch(s, {"transactions": batch})
        stored = assert_exact(app)
        with database.session_scope(app) as s:
            assert sum(v[st_] for v in stored.values() for st_ in rollups.COUNTS) == \
                s.query(Transaction).count()

    check()


def test_rebuild_repairs_damaged_rollups(app):
    with database.session_scope(app) as s:
        ingest.ingest_batch(s, {"transactions": [
            {"id": f"x{i}", "amount_cents": 100 * i, "currency": "USD", "status": st_, "customer_id": "c",
             "created_at": TIMES[i % len(TIMES)].isoformat(), "channel": "web"}
            for i, st_ in enumerate(["completed", "pending", "failed", "completed", "refunded"] * 4)]})
    good = assert_exact(app)
    with database.session_scope(app) as s:
        s.execute(update(RevenueRollup).values(completed=RevenueRollup.completed + 7, revenue_cents=1))
        s.execute(delete(CurrencyRollup))
        s.execute(update(CustomerFirstSeen).values(first_seen_at=T0 - timedelta(days=400)))
    result = app.test_cli_runner().invoke(args=["rebuild-rollups"])
    assert result.exit_code == 0 and f"rebuilt {len(good)} " in result.output
    assert "1 customers' first-seen times" in result.output
    assert assert_exact(app) == good
    with database.session_scope(app) as s:
        assert first_seen.current(s) == {"c": TIMES[0]}


def test_concurrent_writers_on_the_same_ids_stay_exact(make_app):
    """Several threads (own sessions, own connections) upsert the same ids at once."""
    app = make_app()
    ids = [f"k{i}" for i in range(40)]
    statuses = ["pending", "completed", "failed", "refunded"]
    errors = []
    start = threading.Barrier(4)

    def writer(n):
        try:
            start.wait(10)
            for round_ in range(6):
                batch = [{"id": tid, "amount_cents": 100 + n * 10 + round_, "currency": "USD",
                          "status": statuses[(n + round_ + j) % 4],
                          "customer_id": f"c{(n + round_ + j) % 3}",
                          "created_at": TIMES[(n + j) % len(TIMES)].isoformat(),
                          "channel": ["web", "app"][(n + round_) % 2]}
                         for j, tid in enumerate(ids[::-1] if n % 2 else ids)]
                with database.session_scope(app) as s:
                    ingest.ingest_batch(s, {"transactions": batch})
        except Exception as exc:  # reported below, with the thread that failed
            errors.append((n, repr(exc)))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    stored = assert_exact(app)
    assert sum(v[s] for v in stored.values() for s in rollups.COUNTS) == len(ids)


def test_bucket_start_floors_to_quarter_hours():
    assert rollups.bucket_start(datetime(2026, 1, 1, 10, 14, 59, 999999, tzinfo=timezone.utc)) == \
        datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)
    assert rollups.bucket_start(datetime(2026, 1, 1, 11, 15, tzinfo=timezone(timedelta(hours=1)))) == \
        datetime(2026, 1, 1, 10, 15, tzinfo=timezone.utc)


def test_per_currency_rollups_are_filled_at_start_for_older_databases(make_app):
    app = make_app()
    with database.session_scope(app) as s:
        ingest.ingest_batch(s, {"transactions": [
            {"id": f"f{i}", "amount_cents": 100 + i, "currency": ("USD", "EUR")[i % 2], "status": "completed",
             "customer_id": "c", "created_at": TIMES[i % len(TIMES)].isoformat(),
             "channel": ("web", "app", None)[i % 3]} for i in range(12)]})
        s.execute(delete(CurrencyRollup))  # as a database from before the table existed
    restarted = make_app()
    with database.session_scope(restarted) as s:
        stored = rollups.current_per_currency(s)
        assert stored and stored == rollups.per_currency(rollups.current(s))
