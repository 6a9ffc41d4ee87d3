"""``flask --app app db …``: the schema's revisions (Alembic, ``migrations/``), thin over services.schema.

Every command runs on the database of ``DATABASE_URL`` under the schema lock, so it never races
a server that is upgrading on start.
"""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

import database
from blueprints.cli import requires_settings
from services.ops import migrations

db = AppGroup("db", help="Schema migrations: upgrade, downgrade, current, history, revision, stamp.")


@db.command("upgrade")
@click.argument("revision", default="head")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
@requires_settings
def upgrade_command(revision: str, sql: bool) -> None:
    """Upgrade the schema to REVISION (default: head, this release's)."""
    engine = database.get_engine()
    if sql:
        migrations.run_offline(engine, "upgrade", revision)
        return
    before = migrations.state(engine)
    migrations.run(engine, "upgrade", revision, settings=current_app.config)
    after = migrations.state(engine)
    click.echo(f"schema at {after.current} (was {before.current or 'empty'})"
               if after.current != before.current else f"schema already at {after.current}")


@db.command("downgrade")
@click.argument("revision", default="-1")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
@requires_settings
def downgrade_command(revision: str, sql: bool) -> None:
    """Downgrade the schema to REVISION (default: one step back; ``base`` drops every table)."""
    engine = database.get_engine()
    if sql:
        migrations.run_offline(engine, "downgrade", revision)
        return
    migrations.run(engine, "downgrade", revision)
    click.echo(f"schema at {migrations.state(engine).current or 'base (no tables)'}")


@db.command("current")
@requires_settings
def current_command() -> None:
    """Show the database's revision and this release's head."""
    state = migrations.state(database.get_engine())
    note = ("tables from before migrations; `db upgrade` adopts them" if state.legacy
            else "up to date" if not state.behind else "behind: run `flask --app app db upgrade`")
    click.echo(f"database: {state.current or 'none'}  head: {state.head}  ({note})")


@db.command("history")
def history_command() -> None:
    """List the revisions, newest first."""
    migrations.command.history(migrations.alembic_config(), verbose=False)


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the change does, in a few words.")
@click.option("--autogenerate", is_flag=True,
              help="Write the operations from the difference between the models and the database.")
@click.option("--rev-id", default=None, help="Revision id (default: the next NNNN_words_of_message).")
@requires_settings
def revision_command(message: str, autogenerate: bool, rev_id: str | None) -> None:
    """Write a new revision in migrations/versions; review it before committing."""
    engine = database.get_engine()
    migrations.run(engine, "revision", message=message, autogenerate=autogenerate,
               rev_id=rev_id or migrations.next_revision_id(message))


@db.command("stamp")
@click.argument("revision")
@requires_settings
def stamp_command(revision: str) -> None:
    """Record REVISION as the database's without running anything (a restored or hand-built database)."""
    engine = database.get_engine()
    migrations.run(engine, "stamp", revision)
    click.echo(f"schema recorded at {migrations.state(engine).current}")


def init_app(app: Flask) -> None:
    """Register the ``db`` group on ``app``."""
    app.cli.add_command(db)
