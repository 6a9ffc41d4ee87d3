"""Own metrics: HTTP ingest throughput, and query cost against the number of stored points.

    python bench/metrics.py [--batches 30] [--backends sqlite,postgresql] [--big 1000000]

Ingest: the panel runs as ``python app.py`` in its own process with a fresh database; this
process POSTs batches of 1000 points (50 series of one name, 20 points each, spread over the
last 50 minutes) to /api/v1/metrics one after the other, and prints points per second and the
server's CPU seconds.

Query cost: in-process, two series of one day each, one with 10,000 raw points and one with
``--big`` (default 1,000,000), are written through the same store the API uses; then the same
query (one day at a 1-minute step, avg) is asked of each, and a 30-day query at a 1-hour step of a
series with one point a minute for 30 days. Each timing is the median of 15 runs of
``services.metrics.query`` (parse, read, reduce), with the rows the database returned.
PostgreSQL uses ``BENCH_DATABASE_URL`` (default: the local ``test`` database) in a schema of its
own that is dropped afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
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

from bench.pg_schema import private_schema  # noqa: E402
from tests.servers import start_server  # noqa: E402

KEY = "bench-ingest-key"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _cpu(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def bench_ingest(name: str, db_url: str, batches: int, tmp: Path) -> tuple:
    env = {"DATABASE_URL": db_url, "INGEST_API_KEY": KEY, "INGEST_RATE_LIMIT": "100000 per minute",
           "MAX_CONTENT_LENGTH": str(8 * 1024 * 1024)}
    server = start_server(tmp, env=env)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    try:
        now = datetime.now(timezone.utc)
        bodies = []
        for b in range(batches):
            points = [{"name": "bench_queue_depth", "value": (b * 31 + i) % 97, "unit": "jobs",
                       "labels": {"queue": f"q{i % 50}", "region": "eu"},
                       "timestamp": (now - timedelta(seconds=3000 - (b * 1000 + i) * 3000 / (batches * 1000)))
                       .isoformat()} for i in range(1000)]
            bodies.append(json.dumps({"metrics": points}).encode())
        http = requests.Session()
        http.post(f"{server.url}/api/v1/metrics", data=bodies[0], headers=headers, timeout=60)  # warm-up
        cpu0, lat = _cpu(server.proc.pid), []
        began = time.perf_counter()
        for body in bodies[1:]:
            t = time.perf_counter()
            resp = http.post(f"{server.url}/api/v1/metrics", data=body, headers=headers, timeout=120)
            lat.append(time.perf_counter() - t)
            if resp.status_code != 202:
                raise RuntimeError(f"{resp.status_code}: {resp.text[:300]}")
        seconds = time.perf_counter() - began
        cpu = _cpu(server.proc.pid) - cpu0
    finally:
        server.stop()
    points = 1000 * (len(bodies) - 1)
    return name, points, seconds, points / seconds, statistics.median(lat) * 1000, cpu, points / cpu


def _fill(app, name: str, count: int, start: datetime, span: timedelta) -> None:
    """``count`` points of one series spread evenly over ``span`` from ``start``, in 10k batches."""
    import database
    from services.metrics import store
    from services.metrics.validate import Point, labels_hash

    lh = labels_hash({"host": "a"})
    gap = span.total_seconds() / count
    for first in range(0, count, 10_000):
        points = [Point(name, (("host", "a"),), lh, "gauge", None,
                        start + timedelta(seconds=(first + i) * gap), float((first + i) % 100))
                  for i in range(min(10_000, count - first))]
        with database.session_scope(app) as session:
            store.store(session, points, 200, start)


def _time_query(app, params: dict, runs: int = 15) -> tuple[float, int]:
    import database
    from services import metrics
    from services.ingest.validation import parse_query_time

    times, rows = [], 0
    with app.app_context():
        for _ in range(runs):
            session = database.get_session()
            t = time.perf_counter()
            answer = metrics.query(session, params, app.config,
                                   lambda k: parse_query_time(params[k], k) if params.get(k) else None)
            times.append(time.perf_counter() - t)
            session.close()
            rows = sum(len(s["points"]) for s in answer["series"])
    return statistics.median(times) * 1000, rows


def bench_query(name: str, db_url: str, big: int) -> list[tuple]:
    from app_factory import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": db_url,
                      "SCHEDULER_ENABLED": False, "REDIS_URL": None, "LOG_CAPTURE": False})
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    day = timedelta(days=1)
    t = time.perf_counter()
    _fill(app, "small_series", 10_000, end - day, day)
    _fill(app, "big_series", big, end - day, day)
    _fill(app, "month_series", 30 * 1440, end - 30 * day, 30 * day)
    fill_s = time.perf_counter() - t
    out = []
    for series, points, step, span in (("small_series", 10_000, "60", day), ("big_series", big, "60", day),
                                       ("month_series", 30 * 1440, "1h", 30 * day)):
        params = {"name": series, "agg": "avg", "step": step, "start": (end - span).isoformat(),
                  "end": end.isoformat()}
        ms, returned = _time_query(app, params)
        out.append((name, series, points, f"{span.days} d / {step}", returned, ms))
    import database

    database.get_engine(app).dispose()
    print(f"{name}: stored {10_000 + big + 30 * 1440:,} points through the store in {fill_s:.1f} s")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--big", type=int, default=1_000_000)
    args = parser.parse_args()
    ingest, queries = [], []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for backend in args.backends.split(","):
            if backend == "sqlite":
                (tmp / "s").mkdir()
                ingest.append(bench_ingest("sqlite", f"sqlite:///{tmp}/s/bench.db", args.batches, tmp / "s"))
                queries += bench_query("sqlite", f"sqlite:///{tmp}/q.db", args.big)
                continue
            base = os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT)
            (tmp / "p").mkdir()
            with private_schema(base) as url:
                ingest.append(bench_ingest("postgresql", url, args.batches, tmp / "p"))
            with private_schema(base) as url:
                queries += bench_query("postgresql", url, args.big)
    print(f"\n{'backend':<11} {'points':>7} {'seconds':>8} {'points/s':>9} {'p50 ms':>7} "
          f"{'srv CPU s':>9} {'points/CPU-s':>12}")
    for backend, points, seconds, rate, p50, cpu, per_cpu in ingest:
        print(f"{backend:<11} {points:>7} {seconds:>8.2f} {rate:>9,.0f} {p50:>7.1f} {cpu:>9.2f} {per_cpu:>12,.0f}")
    print(f"\n{'backend':<11} {'series':<13} {'stored points':>13} {'range/step':>11} {'points out':>10} {'median ms':>9}")
    for backend, series, points, shape, returned, ms in queries:
        print(f"{backend:<11} {series:<13} {points:>13,} {shape:>11} {returned:>10} {ms:>9.2f}")
    print(f"load average: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
