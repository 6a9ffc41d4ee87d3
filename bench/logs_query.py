"""Log query cost as the table grows: the same page queries on 10k, 100k and 1M entries.

Keyset paging over indexes should keep every page query flat: its time depends on the page
size, not the table size, including a page deep in the middle of the table (no OFFSET).

    python bench/logs_query.py                 # SQLite
    python bench/logs_query.py --database-url 'postgresql+psycopg://postgres@127.0.0.1:5432/test'
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

import database  # noqa: E402
from services.ops import migrations  # noqa: E402
from services.logs import LogEntry  # noqa: E402
from services.logs import query as logs
from bench.pg_schema import private_schema  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
LEVELS = [(20, "INFO")] * 80 + [(10, "DEBUG")] * 12 + [(30, "WARNING")] * 6 + [(40, "ERROR")] * 2
SERVICES = ["web", "billing", "worker", "search", "mailer"]


def grow(engine, start: int, stop: int) -> None:
    """Append entries ``start``..``stop`` (one every second; 2% errors, 1 in 50 mention a timeout)."""
    with engine.begin() as conn:
        batch = []
        for i in range(start, stop):
            no, name = LEVELS[i % len(LEVELS)]
            batch.append({"created_at": T0 + timedelta(seconds=i), "level": name, "level_no": no,
                          "service": SERVICES[i % 5], "logger": "bench",
                          "message": f"request {i} " + ("timeout talking to bank" if i % 50 == 0 else "ok")})
            if len(batch) == 20_000:
                conn.execute(insert(LogEntry), batch)
                batch.clear()
        if batch:
            conn.execute(insert(LogEntry), batch)


def timed(factory, filters, cursor=None, repeat=7) -> float:
    samples = []
    for _ in range(repeat):
        with factory() as s:
            t = time.perf_counter()
            logs.query_logs(s, filters, limit=100, cursor=cursor)
            samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        url = (stack.enter_context(private_schema(args.database_url, "bench_logs"))
               if args.database_url else f"sqlite:///{tmp}/logs.db")
        engine = database.make_engine(url)
        migrations.upgrade_to_head(engine)  # the schema as the revisions build it
        factory = sessionmaker(engine)
        queries = {
            "newest page": logs.LogFilters(),
            "level>=error": logs.LogFilters(min_level=40),
            "service+warning": logs.LogFilters(service="billing", min_level=30),
            "text 'timeout'": logs.LogFilters(q="timeout"),
        }
        print(f"{'rows':>10} " + "".join(f"{name:>17}" for name in [*queries, "middle page"]) + "  (ms, median of 7)")
        have = 0
        try:
            for size in sizes:
                grow(engine, have, size)
                have = size
                if engine.dialect.name == "postgresql":
                    with engine.begin() as conn:
                        conn.execute(text("ANALYZE log_entries"))
                mid = T0 + timedelta(seconds=size // 2)
                cursor = logs.encode_cursor(mid, size // 2)
                cells = [timed(factory, f) for f in queries.values()] + [timed(factory, logs.LogFilters(), cursor)]
                print(f"{size:>10,} " + "".join(f"{c:>17.2f}" for c in cells))
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
