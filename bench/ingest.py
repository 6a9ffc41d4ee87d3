"""Ingest throughput through the real HTTP API (``python app.py`` in its own process).

    python bench/ingest.py [--batches 20] [--backends sqlite,postgresql]

For each backend it starts the panel on a free port with a fresh database, then
POSTs batches of 1000 items to /api/v1/events from this process, one after the
other, and prints items per second for: new transactions, status changes of
those transactions (every one moves between rollup counts), identical re-sends,
and mixed batches (400 transactions, 400 activities, 200 log lines). Besides wall
time it reports the server process's CPU seconds, a figure that a busy machine
distorts much less than items per second.
PostgreSQL uses ``BENCH_DATABASE_URL`` (default: the local ``test`` database) in
a schema of its own that is dropped afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import start_server  # noqa: E402  (needs the repository on sys.path)
from bench.pg_schema import private_schema  # noqa: E402

KEY = "bench-ingest-key"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def transactions(prefix: str, n: int, status: str, start: datetime, rng: random.Random) -> list[dict]:
    return [{"id": f"{prefix}-{i}", "amount_cents": rng.randint(500, 30000),
             "currency": rng.choice(("USD", "USD", "USD", "EUR", "GBP")), "status": status,
             "customer_id": f"c{rng.randint(1, 5000)}", "channel": rng.choice(("web", "app", "amazon")),
             "created_at": (start + timedelta(seconds=i * 7)).isoformat()} for i in range(n)]


def _cpu(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def run_phase(url: str, bodies: list[bytes]) -> tuple[float, list[float]]:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    latencies = []
    began = time.perf_counter()
    for body in bodies:
        t = time.perf_counter()
        resp = session.post(f"{url}/api/v1/events", data=body, headers=headers, timeout=120)
        latencies.append(time.perf_counter() - t)
        if resp.status_code != 202:
            raise RuntimeError(f"ingest answered {resp.status_code}: {resp.text[:300]}")
    return time.perf_counter() - began, latencies


def bench_backend(name: str, db_url: str, batches: int, tmp: Path) -> list[tuple]:
    rng = random.Random(7)
    env = {"DATABASE_URL": db_url, "INGEST_API_KEY": KEY, "INGEST_RATE_LIMIT": "100000 per minute",
           "MAX_CONTENT_LENGTH": str(8 * 1024 * 1024)}
    server = start_server(tmp, env=env)
    rows = []
    try:
        start = datetime.now(timezone.utc) - timedelta(days=20)
        new = [transactions(f"b{b}", 1000, "pending", start + timedelta(hours=2 * b), rng)
               for b in range(batches)]
        phases = [
            ("new transactions", [json.dumps({"transactions": t}).encode() for t in new]),
            ("status changes", [json.dumps({"transactions": [{**x, "status": "completed"} for x in t]}).encode()
                                for t in new]),
            ("identical re-sends", [json.dumps({"transactions": [{**x, "status": "completed"} for x in t]}).encode()
                                    for t in new]),
            ("mixed 400/400/200", [json.dumps({
                "transactions": transactions(f"m{b}", 400, "completed", start, rng),
                "activities": [{"user_id": f"u{i}", "action": "page_view", "detail": "/products"}
                               for i in range(400)],
                "logs": [{"service": "web", "level": "INFO", "message": f"GET /products {i}"}
                         for i in range(200)]}).encode() for b in range(batches)]),
        ]
        run_phase(server.url, [json.dumps({"logs": [{"service": "bench", "level": "INFO",
                                                     "message": "warm-up"}]}).encode()])
        for label, bodies in phases:
            cpu_before = _cpu(server.proc.pid)
            seconds, lat = run_phase(server.url, bodies)
            cpu = _cpu(server.proc.pid) - cpu_before
            items = 1000 * len(bodies)
            rows.append((name, label, len(bodies), items, seconds, items / seconds,
                         statistics.median(lat) * 1000, max(lat) * 1000, cpu, items / cpu))
    finally:
        server.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for backend in args.backends.split(","):
            if backend == "sqlite":
                (tmp / "sqlite").mkdir()
                results += bench_backend("sqlite", f"sqlite:///{tmp}/sqlite/bench.db", args.batches, tmp / "sqlite")
                continue
            (tmp / "pg").mkdir()
            with private_schema(os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT)) as url:
                results += bench_backend("postgresql", url, args.batches, tmp / "pg")
    print(f"\n{'backend':<11} {'phase':<20} {'batches':>7} {'items':>7} {'seconds':>8} "
          f"{'items/s':>9} {'p50 ms':>8} {'max ms':>8} {'srv CPU s':>9} {'items/CPU-s':>11}")
    for backend, label, n, items, seconds, rate, p50, worst, cpu, per_cpu in results:
        print(f"{backend:<11} {label:<20} {n:>7} {items:>7} {seconds:>8.2f} {rate:>9,.0f} {p50:>8.1f} "
              f"{worst:>8.1f} {cpu:>9.2f} {per_cpu:>11,.0f}")
    print(f"load average: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
