"""Revision 0010 (status history) on a database that the previous revision left with rows: every
transaction keeps every value and gets one history row for its current status."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text

import database
from services.ops import migrations
from tests import previous_release
from tests.migration_steps import at_previous_with_rows, filled_tables, up_and_back
from tests.helpers import INGEST, transaction
from tests.test_migrations import engines, fresh_url, start, version  # noqa: F401 (fixtures)

MINE = "0010_status_history"


def test_each_transaction_gets_its_current_status_as_history(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    figures = at_previous_with_rows(engine, MINE)
    names = filled_tables(figures)
    assert figures["counts"]["transactions"] > 0
    before = previous_release.snapshot(engine, names)

    app = start(fresh_url)
    try:
        assert version(engine) == [migrations.head()]
        after = previous_release.snapshot(engine, names, like=before)
        for name in names:
            if name != "alert_rules":  # the start seeds the shipped rules beside the old ones
                assert after[name] == before[name], f"{name} changed on upgrade"
        with engine.connect() as conn:
            txs = conn.execute(text("SELECT id, status, updated_at FROM transactions ORDER BY id")).all()
            hist = conn.execute(text("SELECT transaction_id, status, at FROM transaction_status_changes "
                                     "ORDER BY transaction_id")).all()
        assert len(hist) == len(txs) == figures["counts"]["transactions"]
        assert [(h[0], h[1], str(h[2])[:19]) for h in hist] == [(t[0], t[1], str(t[2])[:19]) for t in txs]

        # A later change of an old transaction adds one row after its first.
        old = txs[0]
        now = datetime.now(timezone.utc).isoformat()
        client = app.test_client()
        resp = client.post("/api/v1/events", headers=INGEST, json={"transactions": [transaction(
            old.id, 100, status="refunded" if old.status != "refunded" else "completed",
            at=now, updated_at=now)]})
        assert resp.status_code == 202, resp.get_json()
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT status FROM transaction_status_changes WHERE transaction_id = :i "
                                     "ORDER BY at"), {"i": old.id}).scalars().all()
        assert rows[0] == old.status and len(rows) == 2
    finally:
        database.get_engine(app).dispose()


def test_downgrade_drops_the_history_and_keeps_the_transactions(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    at_previous_with_rows(engine, MINE)
    before, after = up_and_back(engine, MINE, ["transactions"])
    assert after == before
