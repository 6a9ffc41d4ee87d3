"""Each status change of a transaction is kept with its time: first send, changes, re-sends of the
same status, stale sends, several sends of one id in one batch, and the in-process hook."""
from __future__ import annotations

from sqlalchemy import select

import database
from services.ingest import Transaction
from services.ingest import store
from services.ingest.status_history import history
from tests.helpers import INGEST, transaction

URL = "/api/v1/events"
T0 = "2026-11-20T10:00:00+00:00"


def send(client, *items):
    resp = client.post(URL, json={"transactions": list(items)}, headers=INGEST)
    assert resp.status_code == 202, resp.get_json()


def steps(app, tid="o1"):
    with database.session_scope(app) as s:
        return [(h["status"], h["at"]) for h in history(s, tid)]


def current(app, tid="o1"):
    with database.session_scope(app) as s:
        return s.scalar(select(Transaction.status).where(Transaction.id == tid))


def test_changes_are_kept_and_resends_add_nothing(app, client):
    send(client, transaction("o1", status="pending", at=T0))
    assert steps(app) == [("pending", T0)]
    send(client, transaction("o1", status="pending", at=T0))  # identical re-send
    send(client, transaction("o1", 2500, status="pending", at=T0, updated_at="2026-11-20T10:01:00Z"))
    assert steps(app) == [("pending", T0)]  # the amount changed, the status did not
    send(client, transaction("o1", status="completed", at=T0, updated_at="2026-11-20T10:05:00Z"))
    send(client, transaction("o1", status="completed", at=T0, updated_at="2026-11-20T10:06:00Z"))
    send(client, transaction("o1", status="refunded", at=T0, updated_at="2026-11-21T09:00:00Z"))
    assert steps(app) == [("pending", T0), ("completed", "2026-11-20T10:05:00+00:00"),
                          ("refunded", "2026-11-21T09:00:00+00:00")]
    assert current(app) == "refunded"


def test_stale_sends_change_neither_the_status_nor_the_history(app, client):
    send(client, transaction("o1", status="completed", at=T0, updated_at="2026-11-20T10:05:00Z"))
    send(client, transaction("o1", status="pending", at=T0, updated_at="2026-11-20T10:01:00Z"))
    send(client, transaction("o1", status="failed", at=T0, updated_at="2026-11-20T10:04:59Z"))
    assert current(app) == "completed"
    assert steps(app) == [("completed", "2026-11-20T10:05:00+00:00")]
    assert steps(app)[-1][0] == current(app)


def test_one_batch_with_several_sends_of_one_id_keeps_each_change(app, client):
    send(client, transaction("o1", status="pending", at=T0),
         transaction("o1", status="completed", at=T0, updated_at="2026-11-20T10:02:00Z"),
         transaction("o1", status="completed", at=T0, updated_at="2026-11-20T10:03:00Z"),
         transaction("o1", status="pending", at=T0, updated_at="2026-11-20T10:01:00Z"),  # stale
         transaction("o2", status="failed", at=T0))
    assert steps(app) == [("pending", T0), ("completed", "2026-11-20T10:02:00+00:00")]
    assert steps(app, "o2") == [("failed", T0)]


def test_a_change_without_its_own_time_is_kept_at_the_time_it_arrived(app, client):
    send(client, transaction("o1", status="pending", at=T0))
    with app.app_context():
        stored = store.record_transaction("o1", 1000, "USD", "completed", "c-o1", created_at=T0)
    assert stored["status"] == "completed"
    history_now = steps(app)
    assert [s for s, _ in history_now] == ["pending", "completed"]
    assert history_now[1][1] == stored["updated_at"]  # the history's time is the stored updated_at
