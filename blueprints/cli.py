"""Command-line interface: ``flask --app app <command>``; thin wrappers over services."""
from __future__ import annotations

import functools
import getpass
import sys

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext

import database
from services.accounts import audit
from services.accounts import users
from services.ingest import first_seen
from services.ingest import rollups
from services.ops import migrations
from services.ops import retention
from services.products import sales as product_sales

CLI_MISSING_SECRET = ("SECRET_KEY is not set and no demo has run in this folder: set SECRET_KEY and "
                      "DATABASE_URL as for the server (environment or .env), or run the command where "
                      "`python app.py --demo` runs.")


def requires_settings(command):
    """Refuse, in one line, to act without the panel's settings: it would act on the wrong database."""
    @functools.wraps(command)
    def checked(*args, **kwargs):
        if current_app.config.get("SECRET_KEY_MISSING"):
            raise click.ClickException(CLI_MISSING_SECRET)
        return command(*args, **kwargs)
    return checked


def needs_settings(command):
    """The settings, and a schema at this release's revision (else one line naming the upgrade)."""
    @functools.wraps(command)
    def checked(*args, **kwargs):
        migrations.ensure_current(current_app)
        return command(*args, **kwargs)
    return requires_settings(checked)


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(users.ROLES), default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
@needs_settings
def create_user_command(username: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is prompted for (or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with database.session_scope() as session:
            users.create_user(session, username, password, role,
                              current_app.config["PASSWORD_HASH_METHOD"])
            audit.record(session, "user.create", actor=_cli_actor(), ip=None, target=username,
                         detail={"role": role})
    except users.UserError as exc:
        _audit_failure("user.create", username, str(exc))
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {role} {username}")


@click.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
@needs_settings
def set_password_command(username: str, password_stdin: bool) -> None:
    """Change a user's password; every session of that user ends."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        with database.session_scope() as session:
            user = users.get_by_username(session, username)
            if user is None:
                raise click.ClickException(f"no user {username!r}")
            users.set_password(user, password, current_app.config["PASSWORD_HASH_METHOD"])
            audit.record(session, "user.set_password", actor=_cli_actor(), ip=None, target=username)
    except users.UserError as exc:
        _audit_failure("user.set_password", username, str(exc))
        raise click.ClickException(str(exc)) from exc
    click.echo(f"password changed for {username}; their sessions have ended")


@click.command("rebuild-rollups")
@with_appcontext
@needs_settings
def rebuild_rollups_command() -> None:
    """Recompute the 15-minute revenue rollups, customers' first-seen times and the daily product
    sales rollups from the raw transactions and their lines, in one database transaction."""
    with database.session_scope() as session:
        buckets = rollups.rebuild(session)
        customers = first_seen.rebuild(session)
        sales = product_sales.rebuild(session)
    click.echo(f"rebuilt {buckets} revenue rollup buckets, {customers} customers' first-seen times "
               f"and {sales} product sales rollup rows")


def _cli_actor() -> str:
    """Who ran the command: the operating-system account, marked as coming from the CLI."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # no name for this uid (e.g. some containers)
        return "cli"


def _audit_failure(action: str, username: str, reason: str) -> None:
    with database.session_scope() as session:
        audit.record(session, action, actor=_cli_actor(), ip=None, target=username[:255],
                     outcome="failure", detail={"reason": reason})


@click.command("prune")
@click.option("--vacuum", is_flag=True,
              help="SQLite: switch on incremental auto-vacuum and rewrite the file once (slow).")
@with_appcontext
@needs_settings
def prune_command(vacuum: bool) -> None:
    """Delete rows older than each table's RETENTION_DAYS_* setting, in small batches."""
    engine = database.get_engine()
    if vacuum and engine.dialect.name == "sqlite":
        retention.convert_to_incremental(engine)
    result = retention.prune(engine, current_app.config)
    for table, count in result.deleted.items():
        click.echo(f"{table}: deleted {count}")
    if result.vacuumed_pages is not None:
        click.echo(f"sqlite: {result.vacuumed_pages} free pages returned to the file system")
    with database.session_scope() as session:
        audit.record(session, "retention.prune", actor=_cli_actor(), ip=None,
                     detail={"deleted": result.deleted})


def init_app(app: Flask) -> None:
    """Register every command on ``app``."""
    for command in (create_user_command, set_password_command, rebuild_rollups_command, prune_command):
        app.cli.add_command(command)


def loading_command() -> str | None:
    """The command of the ``flask`` CLI that is loading the app; None outside that CLI."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.find_object(ScriptInfo) is None:
        return None
    return ctx.command.name or ""


def command_group() -> str | None:
    """The first word after the ``flask`` CLI's own options (``flask --app app db upgrade``: "db")."""
    args, options_with_value = sys.argv[1:], {"--app", "-A", "--env-file", "-e"}
    while args and args[0].startswith("-"):
        args = args[2:] if args[0] in options_with_value else args[1:]
    return args[0] if args else None
