"""How long ``python app.py --demo`` takes to fill an empty database with history.

    python bench/demo_backfill.py [--days 30] [--backends sqlite,postgresql]

Runs ``services.demo.mode.backfill`` (generation, bulk inserts, rollup rebuild) on a
fresh database per backend and prints wall and CPU seconds with the row counts.
The target is under 30 s for 30 days on a 2-CPU machine.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import database  # noqa: E402
from app_factory import create_app  # noqa: E402
from services.demo import mode as demo
from bench.pg_schema import private_schema  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def run(url: str, days: float) -> tuple[float, float, dict]:
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "SCHEDULER_ENABLED": False,
                      "REDIS_URL": None, "ADMIN_USERNAME": None, "DEMO": False})
    cpu, wall = time.process_time(), time.perf_counter()
    result = demo.backfill(app, days, rng=random.Random(1), progress=lambda *a, **k: None)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    database.get_engine(app).dispose()
    return wall, cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    rows = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(("sqlite", *run(f"sqlite:///{tmp}/demo.db", args.days)))
            continue
        with private_schema(os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT)) as url:
            rows.append(("postgresql", *run(url, args.days)))
    print(f"\n{'backend':<11} {'days':>5} {'transactions':>12} {'activities':>10} {'logs':>7} "
          f"{'buckets':>8} {'wall s':>7} {'CPU s':>6}")
    for backend, wall, cpu, r in rows:
        print(f"{backend:<11} {args.days:>5g} {r['transactions']:>12,} {r['activities']:>10,} {r['logs']:>7,} "
              f"{r['buckets']:>8,} {wall:>7.1f} {cpu:>6.1f}")
    print(f"load average: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
