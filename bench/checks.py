"""Service monitors: storage per monitor-day (raw results vs rollups) and the runner's CPU cost.

    python bench/checks.py [--monitors 200] [--interval 10] [--seconds 60] [--storage-interval 20]

Storage: one simulated day of one monitor checked every ``--storage-interval`` seconds, stored
through the real write path (``storage.record_result``: raw row + minute/hour/day buckets) in a
SQLite file; the bytes of each table and its indexes are read from SQLite's ``dbstat``. The
90-day projection for ``--monitors`` monitors keeps raw results 3 days, minute buckets 14,
hour buckets 90 and day buckets 90 (the default retention), and compares it with keeping
every raw result for 90 days.

Runner: ``--monitors`` http monitors every ``--interval`` seconds against a local HTTP server
run in a separate process (so its work is not counted), checked by the real runner (worker
pool, SQLite writes) for ``--seconds``; prints the checking process's CPU time as a share of
one core, and the checks done.
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
                                      12.0 + (i % 50) if ok else None, None if ok else "HTTP 503")
                if i % 1000 == 999:
                    s.commit()
            s.commit()
        database.get_engine(app).dispose()
        sizes = table_bytes(Path(tmp) / "bench.db")
        with sqlite3.connect(Path(tmp) / "bench.db") as conn:
            counts = dict(conn.execute("SELECT resolution, COUNT(*) FROM monitor_rollups GROUP BY resolution"))
    raw, rollups = sizes.get("monitor_results", 0), sizes.get("monitor_rollups", 0)
    rollup_rows = sum(counts.values())
    per_row = rollups / rollup_rows
    print(f"one monitor-day at {interval} s: {n} raw results = {raw / 1024:.0f} KiB "
          f"({raw / n:.0f} B/result); rollups {rollup_rows} rows = {rollups / 1024:.0f} KiB "
          f"({per_row:.0f} B/row: {counts})")
    keep = (raw * 3 + per_row * (1440 * 14 + 24 * 90 + 90)) * monitors
    everything = raw * 90 * monitors
    print(f"{monitors} monitors, 90 days, default retention: {keep / 1e6:.1f} MB "
          f"(raw kept 90 days instead: {everything / 1e6:.0f} MB)")


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
            run.stop()
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            with sqlite3.connect(Path(tmp) / "bench.db") as conn:
                done = conn.execute("SELECT COUNT(*), SUM(ok) FROM monitor_results").fetchone()
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
