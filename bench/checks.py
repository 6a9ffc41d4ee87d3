"""Service monitors: storage per monitor-day (raw results vs rollups) and the runner's CPU cost.

    python bench/checks.py [--monitors 200] [--interval 10] [--seconds 60] [--storage-interval 20]

Storage: one simulated day of one monitor checked every ``--storage-interval`` seconds (about
1 % of checks failing), stored through the real write path (``storage.record_result``: minute/
hour/day buckets, a raw row for failures only) in a SQLite file; the bytes of each table and its
indexes are read from SQLite's ``dbstat``. The 90-day projection for ``--monitors`` monitors
keeps raw rows and each bucket resolution for its default retention (``storage.RETENTION``,
day buckets 90 of their 400 days), and compares it with keeping a raw row for every check for
90 days (measured the same way).

Runner: ``--monitors`` http monitors every ``--interval`` seconds against a local HTTP server
run in a separate process (so its work is not counted), checked by the real runner (worker
pool; each loop cycle writes the results of the checks that finished in one SQLite
transaction) for ``--seconds``; prints the checking process's CPU time as a share of one core,
and the checks done.
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import database  # noqa: E402  (needs the repository on sys.path)
from app_factory import create_app  # noqa: E402
from services.checks import runner, service, storage  # noqa: E402

SERVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b'{"status": "ok"}'
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/json"); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H); s.daemon_threads = True
print(s.server_address[1], flush=True); s.serve_forever()
"""


def _app(tmp: Path, **overrides):
    return create_app({"TESTING": True, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": False,
                       "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "REDIS_URL": None,
                       "LOG_CAPTURE": False, "MONITOR_ALLOW_PRIVATE": True, "MONITOR_MIN_INTERVAL": 1,
                       **overrides})


def table_bytes(path: Path) -> dict[str, int]:
    """Bytes of each table with its indexes (SQLite dbstat)."""
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d JOIN sqlite_master m "
                        "ON d.name = m.name GROUP BY m.tbl_name").fetchall()
    conn.close()
    return dict(rows)


def storage_bench(interval: int, monitors: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(Path(tmp))
        with database.session_scope(app) as s:
            mid = service.create(s, {"name": "m", "kind": "tcp", "host": "127.0.0.1", "port": 9},
                                 min_interval=1).id
        start = datetime(2026, 11, 1, tzinfo=timezone.utc)
        n = 86_400 // interval
        factory = database.state(app).session_factory
        with factory() as s:
            for i in range(n):
                ok = i % 97 != 0
                storage.record_result(s, mid, start + timedelta(seconds=i * interval), ok,
                                      12.0 + (i % 50) if ok else None, None if ok else "HTTP 503",
                                      keep_raw=None if i else True)  # the first: pending -> up
                if i % 1000 == 999:
                    s.commit()
            s.commit()
        database.get_engine(app).dispose()
        sizes = table_bytes(Path(tmp) / "bench.db")
        with sqlite3.connect(Path(tmp) / "bench.db") as conn:
            counts = dict(conn.execute("SELECT resolution, COUNT(*) FROM monitor_rollups GROUP BY resolution"))
            # Hour rows also carry the histogram text: counted on top of the average row.
            hist = conn.execute("SELECT AVG(LENGTH(latency_hist)) FROM monitor_rollups WHERE resolution = 3600").fetchone()[0]
    raw, rollups = sizes.get("monitor_results", 0), sizes.get("monitor_rollups", 0)
    every_raw = _raw_for_every_check(interval)
    rollup_rows = sum(counts.values())
    per_row = rollups / rollup_rows
    print(f"one monitor-day at {interval} s: {n} checks, raw rows (failures) = {raw / 1024:.0f} KiB "
          f"(every check as a raw row: {every_raw / 1024:.0f} KiB); rollups {rollup_rows} rows = {rollups / 1024:.0f} KiB "
          f"({per_row:.0f} B/row: {counts}; hour rows + {hist:.0f} B of histogram)")
    days = {k: min(v, 90) for k, v in storage.RETENTION.items()}
    keep = (raw * days["RETENTION_DAYS_MONITOR_RESULTS"]
            + per_row * (1440 * days["RETENTION_DAYS_MONITOR_MINUTES"] + days["RETENTION_DAYS_MONITOR_DAYS"])
            + (per_row + hist) * 24 * days["RETENTION_DAYS_MONITOR_HOURS"]) * monitors
    everything = every_raw * 90 * monitors
    print(f"{monitors} monitors, 90 days, default retention {days}: {keep / 1e6:.1f} MB "
          f"(a raw row per check kept 90 days instead: {everything / 1e6:.0f} MB)")


def _raw_for_every_check(interval: int) -> int:
    """Bytes of one monitor-day with a raw row for every check (what the old layout kept)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(Path(tmp))
        with database.session_scope(app) as s:
            mid = service.create(s, {"name": "m", "kind": "tcp", "host": "127.0.0.1", "port": 9},
                                 min_interval=1).id
        start = datetime(2026, 11, 1, tzinfo=timezone.utc)
        conn_rows = [{"monitor_id": mid, "at": start + timedelta(seconds=i * interval), "ok": True,
                      "latency_ms": 12.0, "error": None} for i in range(86_400 // interval)]
        with database.session_scope(app) as s:
            s.execute(storage.MonitorResult.__table__.insert(), conn_rows)
        database.get_engine(app).dispose()
        return table_bytes(Path(tmp) / "bench.db").get("monitor_results", 0)


def runner_bench(monitors: int, interval: int, seconds: float) -> None:
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            app = _app(Path(tmp), MONITOR_WORKERS=int(os.environ.get("MONITOR_WORKERS", "8")))
            with database.session_scope(app) as s:
                for i in range(monitors):
                    service.create(s, {"name": f"m{i}", "kind": "http", "keyword": "ok",
                                       "url": f"http://127.0.0.1:{port}/health/{i}",
                                       "interval_seconds": interval}, min_interval=1)
            run = runner(app)
            cpu0, wall0 = time.process_time(), time.monotonic()
            run.start()
            time.sleep(seconds)
            pool = run.pool
            run.stop()
            pool.shutdown(wait=True)  # checks under way end and write their results before the file goes
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            with sqlite3.connect(Path(tmp) / "bench.db") as conn:
                # Raw rows hold failures only: the minute buckets count every check.
                done = conn.execute("SELECT SUM(checks), SUM(up) FROM monitor_rollups WHERE resolution = 60").fetchone()
            database.get_engine(app).dispose()
    finally:
        server.terminate()
        server.wait(5)
    print(f"runner: {monitors} http monitors every {interval} s for {wall:.0f} s: {done[0]} checks "
          f"({done[1]} up), CPU {cpu:.2f} s = {100 * cpu / wall:.1f} % of one core "
          f"({1000 * cpu / max(done[0], 1):.2f} ms CPU per check, incl. the SQLite writes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--monitors", type=int, default=200)
    parser.add_argument("--interval", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--storage-interval", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("LOG_CAPTURE", "false")
    storage_bench(args.storage_interval, args.monitors)
    runner_bench(args.monitors, args.interval, args.seconds)


if __name__ == "__main__":
    main()
