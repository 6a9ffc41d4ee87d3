"""Revision 0012 (a user's home dashboard) on a database the previous revision left with rows:
every user keeps every value and has no home (the Overview); downgrading keeps every row."""
from __future__ import annotations

from sqlalchemy import text

from services.ops import migrations
from tests import previous_release
from tests.migration_steps import at_previous_with_rows, filled_tables, up_and_back
from tests.test_migrations import engines, fresh_url, version  # noqa: F401 (fixtures)

MINE = "0012_user_home_dashboard"


def test_every_user_keeps_their_row_and_has_no_home(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    figures = at_previous_with_rows(engine, MINE)
    names = filled_tables(figures)
    assert figures["counts"]["users"] > 0
    before = previous_release.snapshot(engine, names)
    migrations.run(engine, "upgrade", MINE)
    assert version(engine) == [MINE]
    assert previous_release.snapshot(engine, names, like=before) == before
    with engine.connect() as conn:
        homes = conn.execute(text("SELECT home_dashboard_id FROM users")).scalars().all()
    assert homes == [None] * figures["counts"]["users"]


def test_downgrade_keeps_every_user(fresh_url, engines):  # noqa: F811
    engine = engines(fresh_url)
    names = filled_tables(at_previous_with_rows(engine, MINE))
    before, after = up_and_back(engine, MINE, names)
    assert after == before
