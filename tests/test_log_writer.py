"""The log writer when it cannot store: backoff, the oldest records kept, drops said once."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from sqlalchemy import select

import database
from services.logs import LogEntry
from services.logs import MAX_MESSAGE_CHARS, PanelLogHandler, clip_message
from services.infra import LogThrottle

from tests.test_degradation import DeadDatabase
from tests.helpers import wait_for

WRITER = "services.logs.writer"


def _wait(predicate, timeout=10.0):
    return wait_for(predicate, timeout, step=0.02)


def _stored(app, service):
    with database.session_scope(app) as s:
        return s.scalars(select(LogEntry.message).where(LogEntry.service == service)
                         .order_by(LogEntry.created_at, LogEntry.id)).all()


def _writer_lines(caplog):
    return [r for r in caplog.records if r.name == WRITER]


def test_outage_backs_off_keeps_the_oldest_and_says_the_drops_once(make_app, caplog):
    app = make_app()
    handler = PanelLogHandler(app, "outage", queue_size=5, flush_interval=0.05,
                              retry_first=0.05, retry_max=0.2)
    # On the root logger, as in production: the writer's own lines pass this handler too.
    root = logging.getLogger()
    root.addHandler(handler)
    logger = logging.getLogger("test.outage")
    logger.setLevel(logging.INFO)
    caplog.set_level(logging.INFO, logger=WRITER)
    handler.start()
    try:
        with DeadDatabase(app):
            logger.info("r 0")
            assert _wait(lambda: handler.writer.outage is not None), "the writer never tried"
            for i in range(1, 50):
                logger.info("r %d", i)
            began = time.monotonic()
            # It keeps trying ...
            assert _wait(lambda: handler.writer.outage.attempts >= 5), "the writer gave up"
            time.sleep(0.5)
            attempts = handler.writer.outage.attempts
            elapsed = time.monotonic() - began
            stats = handler.stats()
        # ... but backs off: 0.05, 0.1, then every 0.2 s at most (a tight loop makes thousands).
        assert attempts <= 3 + elapsed / 0.2, (attempts, elapsed)
        # The oldest kept (one held by the writer, five queued), the 44 newer ones dropped.
        assert stats["state"] == "waiting_for_database" and stats["outage_since"]
        assert stats["queued"] == 6 and stats["dropped"] == 44
        during = _writer_lines(caplog)
        assert [r.getMessage()[:40] for r in during] == [
            "log capture: cannot store records, the d"]
        assert all(r.exc_info is None for r in during), "no traceback per failure"

        assert handler.flush(10), "nothing stored once the database was back"
        assert _wait(lambda: len(_stored(app, "outage")) >= 7), _stored(app, "outage")
        stored = _stored(app, "outage")
        assert stored[:6] == [f"r {i}" for i in range(6)]
        assert stored[6].startswith("44 log records of this process were dropped while the "
                                    "database was unavailable, from ")
        after = [r.getMessage() for r in _writer_lines(caplog)[1:]]
        assert len(after) == 1 and after[0].startswith("log capture: storing again after ")
        assert after[0].endswith("6 records kept, 44 dropped")
        final = handler.stats()
        # Had any of the writer's own lines entered the queue, they would be stored or dropped.
        assert final["dropped"] == 44 and final["written"] == 7 and final["queued"] == 0
        assert final["state"] == "storing" and final["outage_since"] is None

        logger.info("after the outage")
        assert handler.flush(10)
        assert _stored(app, "outage")[-1] == "after the outage"
    finally:
        root.removeHandler(handler)
        handler.stop()


def test_a_long_outage_is_recalled_now_and_then_not_per_try(make_app, caplog):
    app = make_app()
    handler = PanelLogHandler(app, "long", queue_size=1, flush_interval=0.05,
                              retry_first=0.02, retry_max=0.05, remind_every=0.5)
    logger = logging.getLogger("test.long")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    caplog.set_level(logging.INFO, logger=WRITER)
    handler.start()
    try:
        with DeadDatabase(app):
            logger.info("first")
            assert _wait(lambda: handler.writer.outage is not None)
            for i in range(5):
                logger.info("more %d", i)
            assert _wait(lambda: handler.writer.outage.attempts >= 30, timeout=20)
            attempts = handler.writer.outage.attempts
            elapsed = time.monotonic() - handler.writer.outage.started
            lines = [r.getMessage() for r in _writer_lines(caplog)]
        reminders = [line for line in lines if "still unavailable" in line]
        # Dozens of tries, one line to start and about one reminder per half second.
        assert 1 <= len(reminders) <= elapsed / 0.5 + 1 < attempts, (len(reminders), attempts)
        assert lines[0].startswith("log capture: cannot store records")
        assert reminders[-1].endswith("2 records waiting, 4 dropped so far")
    finally:
        logger.removeHandler(handler)
        handler.stop()


def test_stopping_during_an_outage_gives_up_and_says_so(make_app, caplog):
    app = make_app()
    handler = PanelLogHandler(app, "stop", queue_size=10, flush_interval=0.05,
                              retry_first=0.05, retry_max=0.1)
    logger = logging.getLogger("test.stop")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    caplog.set_level(logging.INFO, logger=WRITER)
    handler.start()
    try:
        with DeadDatabase(app):
            logger.info("first")
            assert _wait(lambda: handler.writer.outage is not None)
            for i in range(3):
                logger.info("more %d", i)
            handler.stop(5)
            assert not handler.writer.alive()
        assert handler.stats()["dropped"] == 4
        lines = [r.getMessage() for r in _writer_lines(caplog)]
        assert lines[-1] == ("log capture: stopping while the database is unavailable; "
                             "4 records could not be stored")
    finally:
        logger.removeHandler(handler)


def test_a_record_that_cannot_be_stored_costs_only_itself(make_app, caplog):
    app = make_app()
    handler = PanelLogHandler(app, "bad", flush_interval=0.05)
    now = datetime.now(timezone.utc)
    good = {"created_at": now, "level": "INFO", "level_no": 20, "logger": "t", "message": "good"}
    for item in (good, {**good, "message": "broken", "no_such_column": 1}, {**good, "message": "also good"}):
        handler.queue.put_nowait(item)
    caplog.set_level(logging.INFO, logger=WRITER)
    handler.start()
    try:
        assert handler.flush(10)
        assert _stored(app, "bad") == ["good", "also good"]
        assert handler.stats()["failed"] == 1 and handler.writer.outage is None
    finally:
        handler.stop()


def test_long_messages_keep_their_start_and_end():
    text = "payment sync failed\n" + "frame\n" * 5000 + "ValueError: the real reason"
    clipped = clip_message(text)
    assert len(clipped) == MAX_MESSAGE_CHARS
    assert clipped.startswith("payment sync failed\n") and clipped.endswith("ValueError: the real reason")
    assert "characters cut" in clipped
    assert clip_message("short") == "short"


def test_log_throttle_says_a_repeat_once_per_interval(caplog):
    now = [0.0]
    throttle = LogThrottle(60, clock=lambda: now[0])
    logger = logging.getLogger("test.throttle")
    caplog.set_level(logging.INFO, logger="test.throttle")
    said = [throttle.log(logger, logging.WARNING, "db", "down") for _ in range(100)]
    assert said.count(True) == 1
    now[0] += 61
    assert throttle.log(logger, logging.WARNING, "db", "down")
    assert throttle.log(logger, logging.WARNING, "other", "another key speaks at once")
    assert [r.getMessage() for r in caplog.records] == [
        "down", "down (and 99 more like it since the last such line)", "another key speaks at once"]
    assert throttle.reset("db") == 0
    assert throttle.log(logger, logging.WARNING, "db", "down")
