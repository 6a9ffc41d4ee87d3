"""How long the first start of this release takes on a database the previous release filled.

    python bench/migrations.py [--sizes 10000,100000] [--backends sqlite,postgresql]

Per backend and size: builds the previous release's schema (tests/fixtures), fills it with that
many transactions and their rollups (plus a few hundred rows in every other table), then times
``migrations.upgrade_to_head`` (what the start runs under the schema lock): the adoption as it is,
and again on a copy from an older release that lacked ``ix_transactions_updated``, which the
adoption then builds. Prints wall seconds; the rows themselves are never rewritten.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import database  # noqa: E402
from bench.pg_schema import private_schema  # noqa: E402
from services.ops import migrations  # noqa: E402
from sqlalchemy import text  # noqa: E402
from tests import previous_release  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def measure(url: str, rows: int, drop_index: bool) -> float:
    """Seconds ``upgrade_to_head`` takes on a previous-release database of ``rows`` transactions."""
    engine = database.make_engine(url)
    try:
        previous_release.build(engine)
        if drop_index:
            with engine.begin() as conn:
                conn.execute(text("DROP INDEX ix_transactions_updated"))
        previous_release.fill(engine, transactions=rows)
        started = time.perf_counter()
        state = migrations.upgrade_to_head(engine)
        seconds = time.perf_counter() - started
        assert state.upgraded and state.legacy and state.current == migrations.head()
        return seconds
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    pg = os.environ.get("TEST_DATABASE_URL", PG_DEFAULT)
    print(f"{'backend':<11} {'transactions':>12} {'adopt (s)':>10} {'adopt + build index (s)':>24}")
    for backend in args.backends.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            figures = []
            for drop_index in (False, True):
                if backend == "sqlite":
                    with tempfile.TemporaryDirectory() as folder:
                        figures.append(measure(f"sqlite:///{folder}/panel.db", size, drop_index))
                else:
                    with private_schema(pg, "benchmig") as url:
                        figures.append(measure(url, size, drop_index))
            print(f"{backend:<11} {size:>12,} {figures[0]:>10.3f} {figures[1]:>24.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
