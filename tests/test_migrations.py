"""Schema migrations on SQLite and PostgreSQL: an old database adopted with every row, an empty one
built by the revisions exactly as create_all builds it, down and up again, and the models never
ahead of the newest revision (a schema change without its revision fails here).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import database
from app_factory import ConfigError, create_app
from services.ops import migrations, schema_lock
from tests import previous_release
from tests.conftest import BASE_OVERRIDES, PG_DEFAULT, PanelClient, unreachable

ROOT = Path(__file__).resolve().parent.parent


def pg_schema(name: str) -> str:
    """A URL to PostgreSQL whose tables go in schema ``name`` (created here)."""
    base = os.environ.get("TEST_DATABASE_URL", PG_DEFAULT)
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
    except Exception as exc:  # any driver error means "not here"
        unreachable(f"PostgreSQL at {base}", type(exc).__name__)
    finally:
        admin.dispose()
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{name}"


def drop_pg_schema(name: str) -> None:
    admin = create_engine(os.environ.get("TEST_DATABASE_URL", PG_DEFAULT))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """A URL to an empty database of its own: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/panel.db"
        return
    name = f"mig_{uuid.uuid4().hex[:12]}"
    yield pg_schema(name)
    drop_pg_schema(name)


@pytest.fixture
def engines():
    """Engines made by a test, disposed after it (PostgreSQL cannot drop a schema in use)."""
    made = []

    def make(url):
        made.append(database.make_engine(url))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


def start(url: str, **overrides):
    """Build the panel on ``url`` as a server start does."""
    app = create_app({**BASE_OVERRIDES, "ADMIN_USERNAME": None, "ADMIN_PASSWORD": None,
                      "DATABASE_URL": url, **overrides})
    app.test_client_class = PanelClient
    return app


def version(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def model_diff(engine) -> list:
    """What autogenerate would write: the difference between the database and the models."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, migrations.metadata())


def test_previous_release_database_is_adopted_with_every_row(fresh_url, engines):
    engine = engines(fresh_url)
    previous_release.build(engine)
    figures = previous_release.fill(engine)
    names = sorted(figures["counts"])
    before = previous_release.snapshot(engine, names)

    app = start(fresh_url)
    try:
        after = previous_release.snapshot(engine, names, like=before)
        for name in names:
            rows = before[name][1]
            if name == "alert_rules":  # the release seeds its shipped rules beside the custom one
                builtin = before[name][0].index("builtin")
                # Revision 0005 turns a rule on error_rate into one on a catalogue metric
                # (tests/test_migrations_0005.py); every other value stays.
                changed = [before[name][0].index(c) for c in ("metric", "params")]
                keep = lambda rows: [tuple(v for i, v in enumerate(r) if i not in changed) for r in rows]  # noqa: E731
                assert keep(r for r in after[name][1] if not r[builtin]) == keep(rows)
            else:
                assert after[name] == before[name], f"{name} changed on upgrade"
            assert len(rows) == figures["counts"][name] > 0
        assert version(engine) == [migrations.head()]
        assert app.extensions["schema"].legacy and app.extensions["schema"].upgraded
        assert model_diff(engine) == []

        client = app.test_client()
        assert client.login(*previous_release.USER).status_code == 302
        answer = client.get("/admin/api/analytics/revenue?period=daily").get_json()
        shown = {c["currency"]: (c["revenue_cents"], c["orders"]) for c in answer["currencies"]}
        assert shown == {c: (figures["revenue"][c], figures["orders"][c]) for c in figures["revenue"]}
        alerts = client.get("/admin/api/alerts?status=firing").get_json()
        assert [a["title"] for a in alerts["alerts"]] == ["Checkout errors: 7.5 > 5"]
    finally:
        database.get_engine(app).dispose()


def test_tables_and_indexes_an_older_release_lacked_are_created(fresh_url, engines):
    engine = engines(fresh_url)
    previous_release.build(engine)
    with engine.begin() as conn:  # as a release before these were added left it
        conn.execute(text("DROP TABLE login_sessions"))
        conn.execute(text("DROP TABLE customer_first_seen"))
        conn.execute(text("DROP INDEX ix_logs_service_level_created"))
    figures = previous_release.fill(engine)
    kept = sorted(figures["counts"])
    before = previous_release.snapshot(engine, [n for n in kept if n != "alert_rules"])

    app = start(fresh_url)
    try:
        assert previous_release.snapshot(engine, list(before), like=before) == before
        assert model_diff(engine) == []
        assert version(engine) == [migrations.head()]
        with engine.connect() as conn:  # filled on start from the transactions that were there
            customers = conn.execute(text("SELECT COUNT(DISTINCT customer_id) FROM transactions "
                                          "WHERE customer_id IS NOT NULL")).scalar()
            assert conn.execute(text("SELECT COUNT(*) FROM customer_first_seen")).scalar() == customers > 0
    finally:
        database.get_engine(app).dispose()


def _shape(engine) -> dict:
    """Tables, columns, keys and indexes as the database itself reports them."""
    found = {}
    with engine.connect() as conn:
        insp = inspect(conn)
        for name in sorted(set(insp.get_table_names()) - {"alembic_version"}):
            found[name] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                            for c in insp.get_columns(name)],
                "pk": insp.get_pk_constraint(name)["constrained_columns"],
                "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                               tuple(f["referred_columns"]), str(f.get("options"))) for f in insp.get_foreign_keys(name)),
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]),
                                   str(sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items()))) for i in insp.get_indexes(name)),
                "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(name)),
            }
        if engine.dialect.name == "sqlite":  # the DDL itself, partial-index conditions included
            rows = conn.execute(text("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                                     "AND name != 'alembic_version'"))
            # A table copied by a revision (batch mode) is renamed into place, and SQLite then
            # writes its name quoted: the same DDL.
            found["_ddl"] = sorted((t, n, re.sub(r'^CREATE TABLE "(\w+)"', r"CREATE TABLE \1", " ".join(s.split())))
                                   for t, n, s in rows)
    return found


def test_empty_database_upgraded_equals_create_all(fresh_url, engines, tmp_path):
    upgraded = engines(fresh_url)
    state = migrations.upgrade_to_head(upgraded)
    assert state.upgraded and not state.legacy and version(upgraded) == [migrations.head()]

    other = f"mig_{uuid.uuid4().hex[:12]}"
    if upgraded.dialect.name == "sqlite":
        created = engines(f"sqlite:///{tmp_path}/created.db")
    else:  # a second schema of the same database: the same server, the same reflection
        created = engines(pg_schema(other))
    try:
        database.Base.metadata.create_all(created)
        assert _shape(upgraded) == _shape(created)
        assert set(_shape(upgraded)) - {"_ddl"} == set(migrations.metadata().tables)
    finally:
        if created.dialect.name == "postgresql":
            created.dispose()
            drop_pg_schema(other)


def test_models_have_no_change_without_a_revision(fresh_url, engines):
    engine = engines(fresh_url)
    migrations.upgrade_to_head(engine)
    diff = model_diff(engine)
    assert diff == [], (
        "the models differ from the newest revision; write one with "
        "`flask --app app db revision --autogenerate -m \"what changed\"` and review it:\n"
        + "\n".join(map(str, diff)))


def test_downgrade_to_base_and_upgrade_again(fresh_url, engines):
    engine = engines(fresh_url)
    migrations.upgrade_to_head(engine)
    migrations.run(engine, "downgrade", "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    assert migrations.state(engine).current is None
    state = migrations.upgrade_to_head(engine)
    assert state.upgraded and version(engine) == [migrations.head()]
    assert model_diff(engine) == []


def test_start_refuses_when_behind_and_auto_upgrade_is_off(fresh_url, engines):
    engine = engines(fresh_url)
    previous_release.build(engine)
    with pytest.raises(ConfigError) as refused:
        start(fresh_url, DB_AUTO_UPGRADE=False)
    message = str(refused.value.message)
    assert "\n" not in message and "flask --app app db upgrade" in message
    assert "DB_AUTO_UPGRADE is off" in message and "before schema migrations" in message
    with engine.connect() as conn:  # nothing was changed
        assert not inspect(conn).has_table("alembic_version")

    migrations.run(engine, "upgrade", "head")  # what `flask --app app db upgrade` runs
    app = start(fresh_url, DB_AUTO_UPGRADE=False)
    assert not app.extensions["schema"].upgraded and version(engine) == [migrations.head()]
    database.get_engine(app).dispose()


STARTER = """
import json, logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
from app_factory import create_app
app = create_app()
print(json.dumps({"upgraded": app.extensions["schema"].upgraded}))
"""


def test_two_processes_starting_at_once_upgrade_once(fresh_url, engines, tmp_path):
    engine = engines(fresh_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": fresh_url, "SECRET_KEY": "k" * 32,
           "SCHEDULER_ENABLED": "false", "LOG_CAPTURE": "false", "REDIS_URL": "",
           "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    logs = [tmp_path / f"start{i}.log" for i in range(2)]
    # Hold the lock, so both processes find the database behind and must wait for each other.
    with schema_lock.hold(engine):
        procs = [subprocess.Popen([sys.executable, "-c", STARTER], cwd=tmp_path, env=env,
                                  stdout=subprocess.PIPE, stderr=log.open("w"), text=True) for log in logs]
        deadline = time.monotonic() + 120
        while not all(schema_lock.WAITING in log.read_text() for log in logs):
            assert all(p.poll() is None for p in procs), [log.read_text() for log in logs]
            assert time.monotonic() < deadline, "the processes never reached the lock"
            time.sleep(0.05)
        assert migrations.state(engine).current is None  # neither went past the lock
    answers = [json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [log.read_text() for log in logs]
    assert sorted(a["upgraded"] for a in answers) == [False, True]
    assert version(engine) == [migrations.head()]
    assert model_diff(engine) == []
    # Both seeded what a start seeds, at nearly the same moment: each shipped rule and each default
    # contact point exists once.
    from services.alerts.defaults import DEFAULT_RULES

    with engine.connect() as conn:
        shipped = conn.execute(text("SELECT name FROM alert_rules WHERE builtin")).scalars().all()
        points = conn.execute(text("SELECT name FROM contact_points ORDER BY name")).scalars().all()
    assert sorted(shipped) == sorted(rule["name"] for rule in DEFAULT_RULES)
    assert points == ["email", "webhook"]


def test_flask_db_commands_upgrade_a_database_the_start_refused(fresh_url, engines, tmp_path):
    engine = engines(fresh_url)
    previous_release.build(engine)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": fresh_url, "SECRET_KEY": "k" * 32,
           "DB_AUTO_UPGRADE": "false", "SCHEDULER_ENABLED": "false", "LOG_CAPTURE": "false", "REDIS_URL": ""}

    def flask(*args, stdin=None):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=tmp_path, env=env,
                              input=stdin, capture_output=True, text=True, timeout=120)

    listed = flask("--help").stdout
    assert all(name in listed for name in ("db ", "create-user", "set-password", "prune", "rebuild-rollups"))
    assert "tables from before migrations" in flask("db", "current").stdout
    refused = flask("create-user", "carol", "--password-stdin", stdin="carol-password-1\n")
    assert refused.returncode != 0 and "flask --app app db upgrade" in refused.stderr
    upgraded = flask("db", "upgrade")
    assert upgraded.returncode == 0 and f"schema at {migrations.head()}" in upgraded.stdout
    assert "up to date" in flask("db", "current").stdout
    assert flask("create-user", "carol", "--password-stdin", stdin="carol-password-1\n").returncode == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT username FROM users")).scalars().all() == ["carol"]
    assert model_diff(engine) == []
