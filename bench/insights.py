"""Cost of the business insights against the number of transactions (SQLite).

    python bench/insights.py [--sizes 10000,10000000] [--days 90] [--repeat 5]
    python bench/insights.py --sizes 1000000,10000000 --per-day 11111   # same density, longer history

Builds the same databases as ``bench/analytics.py`` (transactions spread evenly over ``--days``
days, 50,000 customers, three currencies and channels, rollups rebuilt by the panel's own code),
adds user activity (one row per two transactions, same user ids) and a few alerts, then times,
uncached, what the routes run on a cache miss:

- ``customers 1 d hourly`` / ``7 d daily`` / ``30 d daily``: ``insights_customers.customer_insights``
  (Europe/Berlin) over the last day, week and month;
- ``channels 90 d daily``: ``insights_channels.channel_insights`` (rollups only);
- ``timeline 24 h``: ``timeline.build_timeline`` over 96 quarter hours, alert windows included.

The customer figures read transactions of the asked range (through the created_at index) and who
is new from ``customer_first_seen``, so their cost follows the transactions inside the range, not
the table's size; channels and the timeline read rollups and follow the range only. With
``--per-day`` every database holds that many transactions a day (the history grows with the size
instead of the density), which shows the cost against the size of the table alone.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.alerts import Alert  # noqa: E402
from services.ingest import Transaction, UserActivity  # noqa: E402
from services.insights import fixed_buckets, period_buckets, zone  # noqa: E402
from services.insights import channel_insights  # noqa: E402
from services.insights import customer_insights  # noqa: E402
from services.insights import STEP, build_timeline  # noqa: E402

_spec = importlib.util.spec_from_file_location("revenue_bench", ROOT / "bench" / "analytics.py")
revenue_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(revenue_bench)
END = revenue_bench.END
H = revenue_bench.H
TZ = zone("Europe/Berlin")
ACTIVITY = f"""
WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :count - 1)
INSERT INTO user_activity (user_id, action, detail, created_at)
SELECT 'c' || (({H} / 10000) % 50000),
       CASE {H} % 4 WHEN 0 THEN 'login' WHEN 1 THEN 'view' WHEN 2 THEN 'cart' ELSE 'search' END,
       NULL, datetime(:start + n * :span / :count, 'unixepoch') || '.000000'
FROM seq
"""


def add_activity_and_alerts(engine, count: int, days: int) -> float:
    """One activity row per two transactions over the same span, and three alert windows."""
    t = time.perf_counter()
    indexes = list(UserActivity.__table__.indexes)
    with engine.begin() as conn:
        for ix in indexes:
            ix.drop(conn)
        start = int((END - timedelta(days=days)).timestamp())
        conn.execute(text(ACTIVITY), {"count": max(1, count // 2), "start": start, "span": days * 86400})
        for ix in indexes:
            ix.create(conn)
    add_alerts(engine)
    return time.perf_counter() - t


def add_alerts(engine) -> None:
    """Three resolved 40-minute alert windows in the last day (the timeline shades them)."""
    with Session(engine) as session:
        for hours_ago in (20, 9, 2):
            began = END - timedelta(hours=hours_ago)
            session.add(Alert(rule_name=f"bench-{hours_ago}", metric="failed_payment_rate",
                              severity="warning", status="resolved", title="bench", threshold=5.0,
                              started_at=began, fired_at=began, last_seen_at=began,
                              resolved_at=began + timedelta(minutes=40)))
        session.commit()


def cases():
    """(name, function of a session) for every figure timed."""
    def customers(days: int, period: str):
        buckets = period_buckets(END - timedelta(days=days), END, period, TZ)
        return lambda s: customer_insights(s, buckets)

    channel_buckets = period_buckets(END - timedelta(days=90), END, "daily", TZ)
    line = fixed_buckets(END - timedelta(seconds=1), timedelta(hours=24), STEP, TZ)
    return [
        ("customers 1 d hourly", customers(1, "hourly")),
        ("customers 7 d daily", customers(7, "daily")),
        ("customers 30 d daily", customers(30, "daily")),
        ("channels 90 d daily", lambda s: channel_insights(s, channel_buckets)),
        ("timeline 24 h", lambda s: build_timeline(s, line, END)),
    ]


def timed(session: Session, fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU ms over ``repeat`` calls after one warm-up, each in a new read
    transaction. SQLite runs in this process, so the CPU time is the query's own cost even when
    other work shares the machine."""
    fn(session)
    wall, cpu = [], []
    for _ in range(repeat):
        session.rollback()
        t, c = time.perf_counter(), time.process_time()
        fn(session)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def in_range(session: Session, days: int) -> int:
    """Transactions inside the last ``days`` days (what the customer figures read)."""
    return session.scalar(select(func.count()).select_from(Transaction)
                          .where(Transaction.created_at >= END - timedelta(days=days)))


def print_table(title: str, names: list[str], rows: list[dict], cell) -> None:
    """The results as a Markdown table, one row per size; ``cell`` formats one timing."""
    print()
    print(f"{title}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print()
    print("| transactions | in last 7 d | " + " | ".join(names) + " |")
    print("| ---: | ---: | " + " | ".join("---:" for _ in names) + " |")
    for r in rows:
        print(f"| {r['transactions']:,} | {r['week_rows']:,} | " + " | ".join(cell(r[n]) for n in names) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,10000000")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--per-day", type=int, default=None,
                        help="transactions a day instead of --days (history = size / per-day days)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", default=None, help="where to put the database files (default: a temp dir)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    names = [name for name, _ in cases()]
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for count in sizes:
            t = time.perf_counter()
            days = -(-count // args.per_day) if args.per_day else args.days
            engine, _timings = revenue_bench.build(Path(tmp) / f"insights-{count}.db", count, days)
            add_activity_and_alerts(engine, count, days)
            print(f"built {count:,} transactions in {time.perf_counter() - t:.1f} s", flush=True)
            with Session(engine) as session:
                row = {"transactions": count, "week_rows": in_range(session, 7),
                       **{name: timed(session, fn, args.repeat) for name, fn in cases()}}
            engine.dispose()
            results.append(row)
    span = f"{args.per_day:,} transactions a day" if args.per_day else f"{args.days} days of data"
    print_table(f"Insights over {span}, SQLite, uncached, median of {args.repeat} runs, wall / CPU ms",
                names, results, lambda v: f"{v[0]:.1f} / {v[1]:.1f}")
    if len(results) > 1:
        small, large = results[0], results[-1]
        print()
        # CPU time: the queries' own cost on a possibly shared machine (bench/run_all.py reads this).
        print("CPU ratio largest / smallest: "
              + ", ".join(f"{n} {large[n][1] / max(small[n][1], 0.01):.1f}x" for n in names))


if __name__ == "__main__":
    main()
