"""The business insights on PostgreSQL: the same data shape and the same calls as bench/insights.py.

    python bench/insights_pg.py [--sizes 1000000] [--days 90] [--repeat 3]

Each size is built in a schema of its own (dropped afterwards) of ``BENCH_DATABASE_URL``
(default: the local ``test`` database) with ``generate_series``: the same hashed columns as the
SQLite benchmark (three currencies, a realistic status mix, 50,000 customers, no channel), one
activity row per two transactions, three resolved alerts, rollups and first-seen times by the
panel's own rebuilds, then ``ANALYZE``. It times, uncached, the same five cases as
``bench/insights.py``. Figures are wall ms: the work happens in the PostgreSQL server, so this
process's CPU time says little.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import database  # noqa: E402  (needs the repository on sys.path)
from services.ops import migrations  # noqa: E402
from pg_schema import private_schema  # noqa: E402
from services.ingest import first_seen
from services.ingest import rollups

_spec = importlib.util.spec_from_file_location("insights_bench", ROOT / "bench" / "insights.py")
insights = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(insights)
END = insights.END
H = "((n * 2654435761) % 4294967296)"
TRANSACTIONS = f"""
INSERT INTO transactions (id, amount_cents, currency, status, customer_id, channel,
                          created_at, updated_at, received_at)
SELECT 't' || lpad(n::text, 10, '0'), 100 + ({H} / 7) % 20000,
       CASE WHEN {H} % 100 < 60 THEN 'EUR' WHEN {H} % 100 < 90 THEN 'USD' ELSE 'GBP' END,
       CASE WHEN ({H} / 100) % 100 < 85 THEN 'completed' WHEN ({H} / 100) % 100 < 92 THEN 'pending'
            WHEN ({H} / 100) % 100 < 98 THEN 'failed' ELSE 'refunded' END,
       'c' || (({H} / 10000) % 50000), NULL, ts, ts, ts
FROM (SELECT n, to_timestamp(:start + n * CAST(:span AS BIGINT) / :count) AS ts
      FROM generate_series(0, :count - 1) AS n) AS g
"""
ACTIVITY = f"""
INSERT INTO user_activity (user_id, action, created_at)
SELECT 'c' || (({H} / 10000) % 50000), 'view', to_timestamp(:start + n * CAST(:span AS BIGINT) / :count)
FROM generate_series(0, :count - 1) AS n
"""


def build(url: str, count: int, days: int):
    """An engine on a fresh schema holding ``count`` transactions over ``days`` days."""
    engine = database.make_engine(url)
    migrations.upgrade_to_head(engine)  # the schema as the revisions build it
    start = int((END - timedelta(days=days)).timestamp())
    with engine.begin() as conn:
        conn.execute(text(TRANSACTIONS), {"count": count, "start": start, "span": days * 86400})
        conn.execute(text(ACTIVITY), {"count": max(1, count // 2), "start": start, "span": days * 86400})
    insights.add_alerts(engine)
    with Session(engine) as session:
        rollups.rebuild(session)
        first_seen.rebuild(session)
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    names = [name for name, _ in insights.cases()]
    rows = []
    for count in (int(s) for s in args.sizes.split(",")):
        with private_schema(base, "insights") as url:
            t = time.perf_counter()
            engine = build(url, count, args.days)
            print(f"built {count:,} transactions in {time.perf_counter() - t:.1f} s", flush=True)
            with Session(engine) as session:
                rows.append({"transactions": count, "week_rows": insights.in_range(session, 7),
                             **{name: insights.timed(session, fn, args.repeat)[0]
                                for name, fn in insights.cases()}})
            engine.dispose()
    insights.print_table(f"Insights over {args.days} days of data, PostgreSQL, uncached, median of "
                         f"{args.repeat} runs, wall ms", names, rows, lambda v: f"{v:.1f}")


if __name__ == "__main__":
    main()
