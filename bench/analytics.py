"""Revenue query cost against the number of transactions (SQLite).

    python bench/analytics.py [--sizes 10000,10000000] [--days 90] [--repeat 15] [--keep DIR]

For each size it builds a fresh SQLite database holding that many transactions
spread evenly over ``--days`` days (three currencies, three channels, a realistic
status mix, generated inside SQLite by a recursive CTE with the secondary indexes
built afterwards), builds the 15-minute rollups with the panel's own
``rollups.rebuild`` (one GROUP BY), then times, uncached:

- ``rollups``: ``services.insights.revenue.revenue`` over the whole range in hourly
  buckets (Europe/Berlin), exactly what ``GET /admin/api/analytics/revenue`` runs
  on a cache miss;
- ``raw GROUP BY``: the same hourly revenue of the same currency straight from
  the transactions table (what the panel would cost without rollups).

It prints one table; the ratio line compares the largest size with the smallest
in this same run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import database  # noqa: E402  (needs the repository on sys.path)
from services.ops import migrations  # noqa: E402
from services.ingest import Transaction  # noqa: E402
from services.insights import revenue as analytics
from services.ingest import first_seen
from services.ingest import rollups

END = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Knuth's multiplicative hash of the row number: reproducible "random" columns in SQL.
H = "((n * 2654435761) % 4294967296)"
GENERATE = f"""
WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :count - 1)
INSERT INTO transactions (id, amount_cents, currency, status, customer_id, channel,
                          created_at, updated_at, received_at)
SELECT printf('t%010d', n),
       100 + ({H} / 7) % 20000,
       CASE WHEN {H} % 100 < 60 THEN 'EUR' WHEN {H} % 100 < 90 THEN 'USD' ELSE 'GBP' END,
       CASE WHEN ({H} / 100) % 100 < 85 THEN 'completed'
            WHEN ({H} / 100) % 100 < 92 THEN 'pending'
            WHEN ({H} / 100) % 100 < 98 THEN 'failed' ELSE 'refunded' END,
       'c' || (({H} / 10000) % 50000),
       CASE ({H} / 1000) % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'app' ELSE NULL END,
       ts, ts, ts
FROM (SELECT n, datetime(:start + n * :span / :count, 'unixepoch') || '.000000' AS ts FROM seq)
"""
RAW = """
SELECT substr(created_at, 1, 13) AS hour, SUM(amount_cents), COUNT(*)
FROM transactions
WHERE currency = :currency AND status = 'completed' AND created_at >= :start AND created_at < :end
GROUP BY hour ORDER BY hour
"""


def build(path: Path, count: int, days: int) -> tuple[database.DatabaseState, dict[str, float]]:
    """A database file with ``count`` transactions and their rollups; returns phase timings."""
    engine = database.make_engine(f"sqlite:///{path}")
    timings = {"generate_s": 0.0, "index_s": 0.0, "rollups_s": 0.0}
    if path.exists() and path.with_suffix(".done").exists():
        return engine, {**timings, "reused": True}  # built by an earlier run with --keep
    database.Base.metadata.drop_all(engine)
    migrations.upgrade_to_head(engine)  # the schema as the revisions build it
    secondary = [ix for ix in Transaction.__table__.indexes]
    with engine.begin() as conn:
        # Loading first and indexing afterwards is several times faster than keeping
        # four indexes up to date row by row.
        for ix in secondary:
            ix.drop(conn)
        t = time.perf_counter()
        start = int((END - timedelta(days=days)).timestamp())
        conn.execute(text(GENERATE), {"count": count, "start": start, "span": days * 86400})
        timings["generate_s"] = time.perf_counter() - t
        t = time.perf_counter()
        for ix in secondary:
            ix.create(conn)
        timings["index_s"] = time.perf_counter() - t
    t = time.perf_counter()
    with Session(engine) as session:
        rollups.rebuild(session)
        first_seen.rebuild(session)
        session.commit()
    timings["rollups_s"] = time.perf_counter() - t
    path.with_suffix(".done").touch()
    return engine, timings


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """Median wall time and median CPU time of this process in ms over ``repeat`` calls
    (after one warm-up call). SQLite runs inside this process, so the CPU time is the
    query's own cost even when other work shares the machine."""
    result = fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(wall), statistics.median(cpu), result


def measure(engine, days: int, repeat: int, raw_repeat: int) -> dict[str, object]:
    plan = analytics.plan("hourly", END - timedelta(days=days), END, "Europe/Berlin", END)
    buckets = plan.buckets
    with Session(engine) as session:
        rollup_rows = session.execute(text("SELECT COUNT(*) FROM revenue_rollups")).scalar_one()
        tx_rows = session.execute(text("SELECT COUNT(*) FROM transactions")).scalar_one()

        def query():
            session.rollback()  # a new read transaction each time, as a request would have
            return analytics.revenue(session, plan)

        med, cpu, body = timed(query, repeat)
        currency = body["currency"]
        params = {"currency": currency, "start": buckets.start.strftime("%Y-%m-%d %H:%M:%S"),
                  "end": buckets.end.strftime("%Y-%m-%d %H:%M:%S")}

        def raw():
            return session.execute(text(RAW), params).all()

        raw_med, raw_cpu, raw_rows = timed(raw, raw_repeat)
    raw_total = sum(int(r[1]) for r in raw_rows)
    if raw_total != body["summary"]["total_cents"]:
        raise SystemExit(f"rollups and raw rows disagree: {body['summary']['total_cents']} != {raw_total}")
    return {"transactions": tx_rows, "rollup_rows": rollup_rows, "buckets": len(buckets),
            "currency": currency, "total_cents": raw_total, "rollup_ms": med, "rollup_cpu_ms": cpu,
            "raw_ms": raw_med, "raw_cpu_ms": raw_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,10000000",
                        help="comma-separated transaction counts (default 10000,10000000)")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of the rollup query")
    parser.add_argument("--raw-repeat", type=int, default=3, help="timed runs of the raw GROUP BY")
    parser.add_argument("--keep", default=None, metavar="DIR",
                        help="keep the database files in DIR and reuse them on the next run "
                             "(default: a temporary directory, removed afterwards)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for count in sizes:
            t = time.perf_counter()
            engine, timings = build(folder / f"bench-{count}-{args.days}d.db", count, args.days)
            row = measure(engine, args.days, args.repeat, args.raw_repeat)
            row.update(timings, build_s=time.perf_counter() - t)
            engine.dispose()
            results.append(row)
            if timings.get("reused"):
                print(f"reused the {count:,}-transaction database in {folder}; measured in "
                      f"{row['build_s']:.1f} s", flush=True)
            else:
                print(f"built and measured {count:,} transactions in {row['build_s']:.1f} s "
                      f"(generate {timings['generate_s']:.1f} s, indexes {timings['index_s']:.1f} s, "
                      f"rollups {timings['rollups_s']:.1f} s)", flush=True)

    print()
    print(f"Hourly revenue over {args.days} days ({results[0]['buckets']} buckets, Europe/Berlin), "
          f"SQLite, uncached; median of {args.repeat} (rollups) / {args.raw_repeat} (raw) runs; "
          f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print()
    print("| transactions | rollup rows | rollups: wall ms | rollups: CPU ms "
          "| raw GROUP BY: wall ms | raw GROUP BY: CPU ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['transactions']:,} | {r['rollup_rows']:,} | {r['rollup_ms']:.1f} | "
              f"{r['rollup_cpu_ms']:.1f} | {r['raw_ms']:.1f} | {r['raw_cpu_ms']:.1f} |")
    if len(results) > 1:
        small, large = results[0], results[-1]
        print()
        for what in ("wall", "CPU"):
            k = "rollup_ms" if what == "wall" else "rollup_cpu_ms"
            rk = "raw_ms" if what == "wall" else "raw_cpu_ms"
            print(f"{what}: rollups {large['transactions']:,} vs {small['transactions']:,} "
                  f"transactions = {large[k] / small[k]:.2f}x (target < 2), largest "
                  f"{large[k]:.1f} ms (target < 50); raw GROUP BY = {large[rk] / small[rk]:.0f}x, "
                  f"{large[rk] / large[k]:.0f}x slower than rollups at the largest size")

if __name__ == "__main__":
    main()
