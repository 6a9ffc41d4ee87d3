"""``services.infra.bulk.insert`` stores exactly what it was given on both databases (on
PostgreSQL a plain insert goes through COPY): awkward text, NULLs and times in any offset; a
refused row comes out as SQLAlchemy's error and leaves nothing; the statement is timed like any
other."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

import database
from services.infra import bulk
from services.logs.models import LogEntry

AWKWARD = ["tab\there", "line\nbreak\r\nand return", "back\\slash \\N \\. end", 'quote " and \'',
           "", "ünïcødé ✓ 💳", "comma, semicolon; pipe |", "\\", "trailing space "]


def _rows():
    zone = timezone(timedelta(hours=5, minutes=30))
    at = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=zone)
    return [{"created_at": at + timedelta(minutes=i), "level": "INFO", "level_no": 20 + i,
             "service": f"svc{i}", "logger": None if i % 2 else f"logger.{i}", "message": text}
            for i, text in enumerate(AWKWARD)]


def test_bulk_insert_stores_every_value_as_given(app):
    rows = _rows()
    with database.session_scope(app) as session:
        bulk.insert(session, LogEntry.__table__, rows)
    with database.session_scope(app) as session:
        stored = session.execute(select(LogEntry.created_at, LogEntry.level_no, LogEntry.service,
                                        LogEntry.logger, LogEntry.message).order_by(LogEntry.level_no)).all()
    assert [tuple(r) for r in stored] == [
        (r["created_at"].astimezone(timezone.utc), r["level_no"], r["service"], r["logger"], r["message"])
        for r in rows]


def test_a_refused_row_raises_sqlalchemys_error_and_stores_nothing(app):
    rows = [{**row, "id": 7} for row in _rows()[:2]]  # the same primary key twice
    with pytest.raises(IntegrityError):
        with database.session_scope(app) as session:
            bulk.insert(session, LogEntry.__table__, rows)
    with database.session_scope(app) as session:
        assert session.scalar(select(LogEntry.id).limit(1)) is None
        # The session and its connection work again after the refusal.
        bulk.insert(session, LogEntry.__table__, _rows()[:1])
    with database.session_scope(app) as session:
        assert session.scalars(select(LogEntry.message)).all() == [AWKWARD[0]]


def test_the_insert_is_seen_by_the_engines_statement_timing(app):
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(("before", statement.split()[0].upper()))

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append(("after", statement.split()[0].upper()))

    engine = database.get_engine(app)
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        with database.session_scope(app) as session:
            bulk.insert(session, LogEntry.__table__, _rows())
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    verb = "COPY" if engine.dialect.name == "postgresql" else "INSERT"
    assert ("before", verb) in seen and ("after", verb) in seen
