"""Own metrics: HTTP ingest throughput, and query cost against the number of stored points.

    python bench/metrics.py [--batches 30] [--backends sqlite,postgresql] [--big 1000000]
                            [--stored 500000,2000000] [--rules 200]

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

Stored size (SQLite): one series with 30 days of minute and hour rollups, then the rollup
tables are grown with rows of 1,000 other series (half minute, half hour rows, written
directly as the store would leave them) to each ``--stored`` count of rollup rows; at each size the 30-day query at a 1-hour step and the
1-day query at a 1-minute step of that series are timed.

Rules: ``--rules`` (200) alert rules of kind ``metric``, each on its own series of one pushed
name (avg over 5 minutes), evaluated in one tick (``services.alerts.lifecycle.evaluate``, median
of 5), against the scheduler's 5 s tick budget.
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


def _app(db_url: str):
    from app_factory import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": db_url,
                       "SCHEDULER_ENABLED": False, "REDIS_URL": None, "LOG_CAPTURE": False})


def bench_stored(db_url: str, sizes: list[int]) -> list[tuple]:
    """Query times of one series while the minute rollup table grows to each of ``sizes`` rows."""
    import database
    from services.metrics.rollups import sqlite_text

    app = _app(db_url)
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    _fill(app, "watched_series", 30 * 1440, end - timedelta(days=30), timedelta(days=30))
    out, have, filler_id = [], 30 * 1440, 10_000
    engine = database.get_engine(app)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO metric_series (id, name, labels, labels_hash, type, created_at) "
                             f"SELECT value, 'filler', '{{}}', value, 'gauge', '2026-01-01' FROM "
                             f"(WITH RECURSIVE n(value) AS (SELECT {filler_id} UNION ALL SELECT value + 1 FROM n "
                             f"WHERE value < {filler_id + 999}) SELECT value FROM n)")
    sql = ('INSERT INTO {} (series_id, bucket, count, sum, min, max, last, last_at, increase) '
           'VALUES (?, ?, 1, 1.0, 1.0, 1.0, 1.0, ?, 0.0)')
    slot = 0
    for size in sizes:
        t = time.perf_counter()
        while have < size:
            # Half minute rows, half hour rows: 1,000 series per slot, from 400 days ago forward.
            n = max(2000, min(200_000, size - have) // 2000 * 2000)
            for table, width in (("metric_minute", 60), ("metric_hour", 3600)):
                stamps = [sqlite_text(end - timedelta(seconds=width * (9000 - slot - j)))
                          for j in range(n // 2000 + 1)]
                rows = [(filler_id + i % 1000, stamps[i // 1000], stamps[i // 1000]) for i in range(n // 2)]
                with engine.begin() as conn:
                    conn.exec_driver_sql(sql.format(table), rows)
            slot += n // 2000
            have += n
        filled = time.perf_counter() - t
        for step, span in (("1h", timedelta(days=30)), ("60", timedelta(days=1))):
            params = {"name": "watched_series", "agg": "avg", "step": step,
                      "start": (end - span).isoformat(), "end": end.isoformat()}
            ms, returned = _time_query(app, params)
            out.append((size, f"{span.days} d / {step}", returned, ms, filled))
    engine.dispose()
    return out


def bench_rules(db_url: str, count: int) -> tuple[int, float, int]:
    """(rules, median ms of one evaluation of all of them, alerts opened)."""
    import database
    from services import metrics
    from services.alerts import AlertRule, DbProbe
    from services.alerts import lifecycle

    app = _app(db_url)
    now = datetime.now(timezone.utc)
    with database.session_scope(app) as session:
        metrics.ingest_history(session, [
            {"name": "bench_rule_metric", "value": float((i * 7 + k) % 100), "labels": {"shard": str(i)},
             "timestamp": (now - timedelta(seconds=20 + 25 * k)).isoformat()}
            for i in range(count) for k in range(10)], app.config, now - timedelta(hours=1), now)
        for rule in session.query(AlertRule):
            rule.enabled = False
        session.add_all([AlertRule(name=f"bench rule {i}", metric="metric", operator=">", threshold=90.0,
                                   for_seconds=0, severity="info", channels=[],
                                   params={"name": "bench_rule_metric", "match": f'shard="{i}"',
                                           "reducer": "avg", "window_seconds": 300})
                         for i in range(count)])
    times = []
    for _ in range(5):
        with database.session_scope(app) as session:
            t = time.perf_counter()
            lifecycle.evaluate(session, {}, now, DbProbe())
            times.append((time.perf_counter() - t) * 1000)
            session.rollback()
    with database.session_scope(app) as session:
        opened = len(lifecycle.evaluate(session, {}, now, DbProbe()))
    database.get_engine(app).dispose()
    return count, statistics.median(times), opened


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--stored", default="500000,2000000")
    parser.add_argument("--rules", type=int, default=200)
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
    with tempfile.TemporaryDirectory() as tmpdir:
        stored = bench_stored(f"sqlite:///{tmpdir}/stored.db", [int(x) for x in args.stored.split(",") if x])
        rules = bench_rules(f"sqlite:///{tmpdir}/rules.db", args.rules) if args.rules else None
    print(f"\n{'rollup rows':>12} {'range/step':>11} {'points out':>10} {'median ms':>9}  (SQLite)")
    for size, shape, returned, ms, _ in stored:
        print(f"{size:>12,} {shape:>11} {returned:>10} {ms:>9.2f}")
    if rules:
        print(f"\n{rules[0]} metric rules evaluated in one tick: {rules[1]:.0f} ms median "
              f"({rules[1] / 5000:.1%} of a 5 s tick), {rules[2]} opened")
    print(f"load average: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
