"""One process at a time changes the schema: a lock held by the database or beside it.

PostgreSQL: a session-level advisory lock, taken on a connection of its own that stays open for
the whole upgrade (the migration runs on another connection, in its own transaction); the lock
dies with the connection, so a crashed process never leaves it held. Its key is the schema the
tables live in, so panels in different schemas of one database do not wait for each other.

SQLite: an operating-system file lock on ``<database file>.schema-lock`` beside the database
(``filelock``); released by the kernel when the process dies. A SQLite database in memory is
private to its process and needs none.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

from filelock import FileLock, Timeout
from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# Class id of the advisory lock (two-int form); the object id is the schema's hash.
ADVISORY_CLASS = 0x5C4E
WAITING = "schema: another process is changing the database schema; waiting for it to finish"


def lock_path(engine: Engine) -> str | None:
    """The lock file beside a SQLite database file; None for PostgreSQL or a database in memory."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return f"{database}.schema-lock"


@contextmanager
def hold(engine: Engine) -> Iterator[None]:
    """Hold the schema lock of ``engine``'s database; waits (and says so once) while another has it."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine):
            yield
        return
    path = lock_path(engine)
    if path is None:
        yield
        return
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning(WAITING)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _advisory(engine: Engine) -> Iterator[None]:
    # AUTOCOMMIT: the lock is the session's, never tied to (or released by) a transaction here.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        key = {"cls": ADVISORY_CLASS}
        got = conn.execute(text("SELECT pg_try_advisory_lock(:cls, hashtext(current_schema()))"),
                           key).scalar()
        if not got:
            log.warning(WAITING)
            conn.execute(text("SELECT pg_advisory_lock(:cls, hashtext(current_schema()))"), key)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:cls, hashtext(current_schema()))"), key)
