"""Peak server memory while downloading a large export, against a real ``python app.py``.

Fills a fresh database with N transactions, starts the panel in its own process,
logs in, and for each format asks for an export link and downloads it while a
thread samples the server's RSS (psutil) every few milliseconds. Prints, per
format: rows, file size, time, idle RSS, peak RSS and the difference.

    python bench/export_memory.py                       # 200,000 rows, SQLite
    python bench/export_memory.py --rows 1000000 --formats csv
    python bench/export_memory.py --database-url 'postgresql+psycopg://postgres@127.0.0.1:5432/test'
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

import database  # noqa: E402
from services.ops import migrations  # noqa: E402
from services.ingest import Transaction  # noqa: E402
from tests.servers import start_server  # noqa: E402

USER, PASSWORD = "bench-admin", "bench-password-1"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def create_schema(url: str, schema: str) -> None:
    """A PostgreSQL schema of our own, so the benchmark never touches other tables."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def fill(url: str, rows: int) -> None:
    """Insert ``rows`` transactions spread over 20 days, in batches (fast, no ingest path)."""
    engine = create_engine(url)
    migrations.upgrade_to_head(engine)  # the schema as the revisions build it
    step = timedelta(days=20) / rows
    batch = []
    with engine.begin() as conn:
        for i in range(rows):
            t = START + step * i
            batch.append({"id": f"tx-{i:08d}", "amount_cents": 100 + (i * 7919) % 100_000,
                          "currency": "USD" if i % 5 else "EUR", "status": ("completed", "pending", "failed")[i % 3],
                          "customer_id": f"cust-{i % 5000}", "channel": "web", "created_at": t,
                          "updated_at": t, "received_at": t})
            if len(batch) == 10_000:
                conn.execute(insert(Transaction), batch)
                batch.clear()
        if batch:
            conn.execute(insert(Transaction), batch)
    engine.dispose()


def login(base: str) -> requests.Session:
    s = requests.Session()
    html = s.get(f"{base}/admin/login", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    resp = s.post(f"{base}/admin/login", data={"username": USER, "password": PASSWORD, "csrf_token": token},
                  allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.status_code
    html = s.get(f"{base}/admin/dashboard", timeout=10).text
    s.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    return s


class PeakRSS:
    """Samples a process's RSS in a thread; ``peak`` is the largest seen."""

    def __init__(self, pid: int, interval: float = 0.005):
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(2)


def measure(base: str, pid: int, session: requests.Session, form: str) -> dict:
    """Create and download one export; the server's idle and peak RSS around it."""
    idle = psutil.Process(pid).memory_info().rss
    started = time.perf_counter()
    with PeakRSS(pid) as rss:
        link = session.post(f"{base}/admin/api/export", json={
            "data_type": "transactions", "format": form, "start": START.isoformat(),
            "end": (START + timedelta(days=30)).isoformat()}, timeout=30).json()
        size = 0
        newlines = 0
        with session.get(f"{base}{link['url']}", stream=True, timeout=600) as resp:
            resp.raise_for_status()
            for chunk in resp.iter_content(256 * 1024):
                size += len(chunk)
                newlines += chunk.count(b"\n")
    return {"format": form, "bytes": size, "lines": newlines, "seconds": time.perf_counter() - started,
            "idle_mb": idle / 2**20, "peak_mb": rss.peak / 2**20, "delta_mb": (rss.peak - idle) / 2**20}


def run(rows: int, formats: list[str], database_url: str | None, tmp: Path) -> list[dict]:
    """Fill, start a server, measure every format; returns one dict per format."""
    env = {"ADMIN_USERNAME": USER, "ADMIN_PASSWORD": PASSWORD, "SCHEDULER_ENABLED": "false",
           "LOG_CAPTURE": "false"}
    if database_url:
        schema = f"bench_export_{int(time.time())}"
        sep = "&" if "?" in database_url else "?"
        url = f"{database_url}{sep}options=-csearch_path%3D{schema}"
        create_schema(database_url, schema)
        fill(url, rows)
        env["DATABASE_URL"] = url
    else:
        url = f"sqlite:///{tmp}/server.db"
        fill(url, rows)
        env["DATABASE_URL"] = url
    server = start_server(tmp, env=env)
    try:
        session = login(server.url)
        session.get(f"{server.url}/admin/api/logs", timeout=10)  # warm up imports and pools
        results = [measure(server.url, server.proc.pid, session, form) for form in formats]
    finally:
        server.stop()
        if database_url:
            engine = create_engine(database_url)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--formats", default="csv,json,xlsx")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        results = run(args.rows, args.formats.split(","), args.database_url, Path(tmp))
        backend = "postgresql" if args.database_url else "sqlite"
        print(f"\nexport of {args.rows:,} transactions on {backend} (setup+run {time.perf_counter() - t0:.0f}s)")
        print(f"{'format':<7}{'file MB':>9}{'seconds':>9}{'rows/s':>10}{'idle MB':>9}{'peak MB':>9}{'delta MB':>10}")
        for r in results:
            print(f"{r['format']:<7}{r['bytes'] / 2**20:>9.1f}{r['seconds']:>9.1f}"
                  f"{args.rows / r['seconds']:>10,.0f}{r['idle_mb']:>9.1f}{r['peak_mb']:>9.1f}{r['delta_mb']:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
