"""Steps every revision upgrade test starts with: a database at the revision before its own,
holding the rows the previous release wrote (tests.previous_release)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from services.ops import migrations
from tests import previous_release
from tests.test_migrations import version


def previous(revision: str) -> str:
    """The revision ``revision`` is chained after, read from the scripts (never hard-coded: the
    chain is set when the revisions are merged)."""
    return migrations.scripts().get_revision(revision).down_revision


def at_previous_with_rows(engine: Engine, revision: str) -> dict[str, Any]:
    """Upgrade an empty database to the revision before ``revision`` and fill it as the previous
    release did; returns the figures of ``previous_release.fill``."""
    before = previous(revision)
    migrations.run(engine, "upgrade", before)
    assert version(engine) == [before]
    return previous_release.fill(engine)


def filled_tables(figures: dict[str, Any]) -> list[str]:
    """The tables ``previous_release.fill`` put at least one row in, sorted."""
    return sorted(name for name, count in figures["counts"].items() if count)


def up_and_back(engine: Engine, revision: str, names: list[str], to: str = "head") -> tuple[dict, dict]:
    """Snapshot ``names``, upgrade to ``to``, downgrade to the revision before ``revision``;
    returns the snapshots (before, after) for the test to compare."""
    before = previous_release.snapshot(engine, names)
    migrations.run(engine, "upgrade", to)
    migrations.run(engine, "downgrade", previous(revision))
    assert version(engine) == [previous(revision)]
    return before, previous_release.snapshot(engine, names)
