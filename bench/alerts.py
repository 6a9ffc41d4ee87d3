"""Cost of one alert evaluation (every rule, once per scheduler tick) against the data size.

    python bench/alerts.py [--sizes 10000,1000000] [--days 35] [--extra-rules 90] [--repeat 50]

For each size it builds a SQLite database with that many transactions over ``--days`` days
(the generator and rollup rebuild of bench/analytics.py), seeds the shipped rules and then
times ``services.alerts.lifecycle.evaluate`` on a calm snapshot (each run is rolled back, so the
time is the rules' reading cost plus at most an alert the generated data itself trips): first the 10 shipped rules, then with ``--extra-rules`` more custom rules
spread over every metric. The ratio line compares the largest size with the smallest in this
same run: the business metrics read rollup rows and one indexed MAX, so it should stay near 1.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from database import AlertRule  # noqa: E402  (needs the repository on sys.path)
from services.alerts import rules as alert_rules
from services.alerts import lifecycle as alerts
from services.alerts import DbProbe  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_analytics", ROOT / "bench" / "analytics.py")
data_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(data_bench)

CALM = {"system": {"cpu_percent": 20.0, "memory_percent": 40.0, "disk_percent": 50.0},
        "requests": {"rpm": 100, "avg_ms": 80.0, "p95_ms": 200.0, "error_rate": 0.01}}


def add_rules(session: Session, extra: int) -> None:
    """``extra`` custom rules cycling through the metrics, with thresholds that never trip."""
    metrics = list(alert_rules.METRICS)
    for i in range(extra):
        metric = metrics[i % len(metrics)]
        params = {k: int(spec[2]) + (i // len(metrics)) * 15 if k == "window_minutes" else int(spec[2])
                  for k, spec in alert_rules.METRICS[metric].params.items()}
        session.add(AlertRule(name=f"bench {i}", metric=metric, operator=">", threshold=1e12,
                              for_seconds=0, severity="info", channels=[], params=params))
    session.commit()


def timed(session: Session, now, repeat: int) -> float:
    """Median ms of ``repeat`` evaluations (after one warm-up), each in a fresh read transaction."""
    probe = DbProbe()
    alerts.evaluate(session, CALM, now, probe)
    samples = []
    for i in range(repeat):
        session.rollback()
        t = time.perf_counter()
        alerts.evaluate(session, CALM, now + timedelta(seconds=i), probe)
        samples.append((time.perf_counter() - t) * 1000)
    session.rollback()
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--extra-rules", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in [int(s) for s in args.sizes.split(",")]:
            engine, _ = data_bench.build(Path(tmp) / f"alerts-{count}.db", count, args.days)
            # "now" sits inside the generated history, so the business rules really read rows.
            now = data_bench.END - timedelta(minutes=7)
            with Session(engine) as session:
                alert_rules.seed_defaults(session)
                session.commit()
                shipped = timed(session, now, args.repeat)
                add_rules(session, args.extra_rules)
                many = timed(session, now, args.repeat)
            engine.dispose()
            results.append((count, shipped, many))
            print(f"measured {count:,} transactions", flush=True)
    total = 10 + args.extra_rules
    print()
    print(f"alerts.evaluate on SQLite, calm snapshot, median of {args.repeat} runs")
    print()
    print(f"| transactions | 10 shipped rules: ms | {total} rules: ms | per rule (µs) |")
    print("| ---: | ---: | ---: | ---: |")
    for count, shipped, many in results:
        print(f"| {count:,} | {shipped:.2f} | {many:.2f} | {many * 1000 / total:.0f} |")
    if len(results) > 1:
        (c0, s0, m0), (c1, s1, m1) = results[0], results[-1]
        print()
        print(f"{c1:,} vs {c0:,} transactions: {s1 / s0:.2f}x (shipped rules), {m1 / m0:.2f}x ({total} rules)")


if __name__ == "__main__":
    main()
