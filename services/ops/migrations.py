"""The schema's versions: every table's metadata, Alembic on the app's engine, upgrade on start.

Revisions live in ``migrations/versions``; ``0001_baseline`` is the schema of the last release
built by ``create_all``. A database from that time (tables, no ``alembic_version``) is adopted by
the baseline itself: it creates only what is missing and leaves every existing table and row as
it is, then Alembic records the revision. Upgrades run under :mod:`services.ops.schema_lock`, so of
several processes starting at once one upgrades and the others find the database at head.
"""
from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import click
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Flask
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection, Engine

import database
from services import schema
from services.ops import schema_lock

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
BASELINE = "0001_baseline"
UPGRADE_COMMAND = "flask --app app db upgrade"
EXTENSION = "schema"


def metadata() -> MetaData:
    """Every table of the panel: what the migrations are compared with and autogenerate reads."""
    return schema.metadata


class SchemaError(click.ClickException):
    """The database's schema cannot be used by this release as it is (printed as one line)."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands: its recorded revision, this release's head, what was done on start."""

    current: str | None
    head: str
    legacy: bool = False  # tables from before migrations, no alembic_version yet (before the upgrade)
    upgraded: bool = False  # this process ran the upgrade
    previous: str | None = None  # the revision before this process's upgrade

    @property
    def behind(self) -> bool:
        return self.current != self.head


def alembic_config(connection: Connection | None = None, url: str | None = None,
                   settings: Mapping[str, Any] | None = None) -> Config:
    """An Alembic config on ``migrations/``; env.py runs on ``connection`` (or offline on ``url``).

    ``settings`` (the app's configuration) is what revisions that turn settings into rows read
    (``revision_settings``); without it they read the environment.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(rev)s")  # the id already carries the message's words
    config.attributes["connection"] = connection
    config.attributes["settings"] = settings
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def scripts() -> ScriptDirectory:
    """The revisions this release ships, read once per process."""
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision this release ships."""
    heads = scripts().get_heads()
    if len(heads) != 1:
        raise SchemaError(f"migrations/versions has {len(heads)} heads ({', '.join(heads)}): "
                          "make one revise the other (its down_revision)")
    return heads[0]


def state(engine: Engine) -> SchemaState:
    """The revision ``engine``'s database records, and whether it holds tables from before migrations."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        legacy = current is None and bool(set(inspect(conn).get_table_names())
                                          & set(metadata().tables))
    return SchemaState(current, head(), legacy)


def revision_settings(config: Config | None) -> Mapping[str, Any]:
    """The settings a running revision may read: the app's, or the environment's when the revision
    runs without an app (offline ``--sql``, a bare Alembic call)."""
    given = config.attributes.get("settings") if config is not None else None
    return given if given is not None else os.environ


def upgrade_to_head(engine: Engine, settings: Mapping[str, Any] | None = None) -> SchemaState:
    """Bring the database to head under the schema lock; a database already there costs one query."""
    before = state(engine)
    _refuse_unknown(before)
    if not before.behind:
        return before
    with schema_lock.hold(engine):
        before = state(engine)  # another process may have upgraded while this one waited
        _refuse_unknown(before)
        if not before.behind:
            return before
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn, settings=settings), "head")
    log.info("schema: upgraded from %s to %s%s", before.current or "an empty database", before.head,
             " (adopted a database from before migrations)" if before.legacy else "")
    return SchemaState(before.head, before.head, before.legacy, upgraded=True, previous=before.current)


def run(engine: Engine, name: str, *args, settings: Mapping[str, Any] | None = None, **kwargs):
    """Run the Alembic command ``name`` (upgrade, downgrade, stamp, revision, ...) on ``engine``'s
    database, in one transaction, under the schema lock (``settings``: see ``alembic_config``)."""
    with schema_lock.hold(engine), engine.begin() as conn:
        return getattr(command, name)(alembic_config(conn, settings=settings), *args, **kwargs)


def run_offline(engine: Engine, name: str, *args, **kwargs):
    """Print the SQL of an upgrade or downgrade instead of running it (``--sql``)."""
    url = engine.url.render_as_string(hide_password=False)
    return getattr(command, name)(alembic_config(url=url), *args, sql=True, **kwargs)


def next_revision_id(message: str) -> str:
    """``NNNN_words_of_the_message``: revisions sort by number in the folder and in the history."""
    numbers = [int(rev.split("_", 1)[0]) for rev in scripts().get_heads() if rev[:4].isdigit()]
    words = "_".join("".join(c if c.isalnum() else " " for c in message.lower()).split())[:40]
    return f"{max(numbers, default=0) + 1:04d}_{words or 'change'}".rstrip("_")


def behind_message(current: SchemaState) -> str:
    """The one line a start refuses with when the database is behind and upgrades are by hand."""
    where = ("tables from before schema migrations" if current.legacy
             else f"revision {current.current}" if current.current else "no tables")
    return (f"The database schema is behind this release (it has {where}; this release needs "
            f"{current.head}) and DB_AUTO_UPGRADE is off: run `{UPGRADE_COMMAND}`, then start again.")


def _refuse_unknown(current: SchemaState) -> None:
    if current.current is None:
        return
    try:
        scripts().get_revision(current.current)
    except CommandError as exc:
        raise SchemaError(
            f"The database is at revision {current.current}, which this release does not know "
            f"(its newest is {current.head}): it was upgraded by a newer release; run that release, "
            "or downgrade the database with it first.") from exc


def init_app(app: Flask, refuse_when_behind: bool = True) -> SchemaState:
    """Upgrade to head on start (DB_AUTO_UPGRADE), or check it is there and refuse when behind.

    ``refuse_when_behind=False`` (the ``flask`` commands) records the state instead, so that
    ``flask --app app db upgrade`` and ``--help`` work on a database that is behind.
    """
    engine = database.get_engine(app)
    if app.config.get("DB_AUTO_UPGRADE", True):
        current = upgrade_to_head(engine, app.config)
    else:
        current = state(engine)
        _refuse_unknown(current)
        if current.behind and refuse_when_behind:
            raise SchemaError(behind_message(current))
    app.extensions[EXTENSION] = current
    return current


def is_behind(app: Flask) -> bool:
    """Whether the app started on a database that is behind (possible only under ``flask`` commands)."""
    current = app.extensions.get(EXTENSION)
    return bool(current and current.behind)


def ensure_current(app: Flask) -> None:
    """Refuse (one line) a command that needs the tables when the database is behind."""
    current = app.extensions.get(EXTENSION)
    if current is not None and current.behind:
        raise SchemaError(behind_message(current))
