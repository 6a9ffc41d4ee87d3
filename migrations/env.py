"""Alembic environment of the panel: the app's own connection, every table from services.schema.

Run through ``flask --app app db …`` (or the app's start), which hands over a connection to the
database of ``DATABASE_URL``; ``--sql`` runs offline on the URL alone and prints the SQL.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy.types import TypeDecorator

from services.ops import migrations

config = context.config
target_metadata = migrations.metadata()


def render_item(type_: str, obj, autogen_context):
    """Render the panel's own column types (UTCDateTime, ...) as ``module.Type()`` with their import.

    Alembic would otherwise write ``database.UTCDateTime()`` without importing ``database``, and
    the revision would fail to load.
    """
    if type_ == "type" and isinstance(obj, TypeDecorator) and not type(obj).__module__.startswith("sqlalchemy"):
        module = type(obj).__module__
        autogen_context.imports.add(f"import {module}")
        return f"{module}.{type(obj).__name__}()"
    return False


def _options(dialect_name: str) -> dict:
    return {
        "target_metadata": target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table, so later revisions work there.
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
        "render_item": render_item,
    }


def run_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    from sqlalchemy.engine import make_url

    context.configure(url=url, literal_binds=True, **_options(make_url(url).get_backend_name()))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `flask --app app db …`: it passes the app's database")
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
