"""Database: engine and sessions per app, the declarative base and the column types.

Each feature keeps its tables in ``services/<feature>/models.py``; ``services.schema`` imports
them all, and the factory imports it before ``init_app`` creates the tables.

SQLite is the embedded default (WAL, busy_timeout, foreign keys on every
connection); PostgreSQL works through ``postgresql+psycopg://``. Times are stored
as naive UTC and come back as aware UTC on both, so services compare them freely.
Money is integer minor units.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from flask import Flask, current_app, g
from sqlalchemy import BigInteger, DateTime, Integer, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a real bigint.
BigIntPK = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of every table."""


@dataclass
class DatabaseState:
    """What ``init_app`` keeps on ``app.extensions['database']``."""

    engine: Engine
    session_factory: sessionmaker


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def make_engine(url: str, instance_path: str | None = None, **options: Any) -> Engine:
    """Create an engine for ``url``; relative SQLite paths live under the working directory."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options.setdefault("connect_args", {"check_same_thread": False, "timeout": 10})
        engine = create_engine(parsed, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options.setdefault("pool_pre_ping", True)
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    return create_engine(parsed, **options)


def init_app(app: Flask) -> None:
    """Bind an engine to ``app``, close request sessions at teardown (services.schema: the tables)."""
    engine = make_engine(app.config["DATABASE_URL"], **app.config.get("DATABASE_ENGINE_OPTIONS", {}))
    app.extensions["database"] = DatabaseState(engine, sessionmaker(engine, expire_on_commit=False))
    app.teardown_appcontext(_close_request_session)


def state(app: Flask | None = None) -> DatabaseState:
    """The database state of ``app`` (default: the current app)."""
    return (app or current_app).extensions["database"]


def get_engine(app: Flask | None = None) -> Engine:
    """The engine bound to ``app`` (default: the current app)."""
    return state(app).engine


def get_session() -> Session:
    """The request's session: one per app context, closed at teardown."""
    if "db_session" not in g:
        g.db_session = state().session_factory()
    return g.db_session


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """A session for work outside a request (CLI, scheduler): commit on success, else roll back."""
    session = state(app).session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(app: Flask | None = None) -> None:
    """Run a trivial query; raises if the database does not answer."""
    with get_engine(app).connect() as conn:
        conn.execute(text("SELECT 1"))
