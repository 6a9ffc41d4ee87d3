"""HTTP while 1,000 sockets are open: ingest of 1,000-item batches and GET /admin/api/health.

Starts the production command (``gunicorn -k gevent -w 1``, README "Deployment") on a fresh
SQLite file, or PostgreSQL with ``--database``, with 50 admins. Phase 1 measures ingest and
health with no socket open; phase 2 opens ``--sockets`` sockets (20 per admin, the default
``SOCKETS_PER_USER``, each joined to room ``admin``) from a few client processes and measures the
same while they receive ``live_update`` every second. Prints p50/p95/max per phase, the ratio of
the phases, the worker's RSS before and with the sockets, and the per-tick session check of
those sockets. Exit status 1 when a socket is refused, dropped or starved of pushes, or a p95
is 1 s or more.

    python bench/sockets_http.py                         # 1,000 sockets, 20 s per phase
    python bench/sockets_http.py --sockets 300 --seconds 10
    python bench/sockets_http.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil
import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import PRODUCTION, start_server  # noqa: E402

PASSWORD = "bench-password-1"
INGEST_KEY = "bench-ingest-key"
USERS = 50


def login(url: str, username: str) -> requests.Session:
    """A session logged in through the form, like a browser."""
    web = requests.Session()
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      web.get(f"{url}/admin/login", timeout=30).text).group(1)
    resp = web.post(f"{url}/admin/login", data={"username": username, "password": PASSWORD,
                                                "csrf_token": token}, allow_redirects=False, timeout=30)
    assert resp.status_code == 302, f"login of {username}: {resp.status_code}"
    return web


def create_admins(database_url: str) -> None:
    """The 50 admins, created before the server starts (the CLI would take a minute)."""
    from app_factory import create_app
    import database
    from services.accounts import users

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": False,
                      "ADMIN_USERNAME": None, "LOG_CAPTURE": False})
    with database.session_scope(app) as session:
        for i in range(USERS):
            if users.get_by_username(session, f"admin{i}") is None:
                users.create_user(session, f"admin{i}", PASSWORD, "admin", "pbkdf2:sha256:1000")
    database.get_engine(app).dispose()


def client_worker(url: str, cookies: list[str], ready: mp.Queue, stop: mp.Event, out: mp.Queue) -> None:
    """Hold one socket per cookie on one asyncio loop until ``stop``; report what they received."""
    out.put(asyncio.run(_hold(url, cookies, ready, stop)))


async def _hold(url: str, cookies: list[str], ready: mp.Queue, stop: mp.Event) -> dict:
    counts: dict[int, int] = {}
    problems: list[str] = []
    closing = False

    async def one(i: int, cookie: str):
        client = socketio.AsyncClient(reconnection=False)
        counts[i] = 0

        @client.on("live_update")
        def update(_snap):
            counts[i] += 1

        client.on("error", lambda err: problems.append(f"error event {err}"))

        @client.on("disconnect")
        def dropped(*_reason):
            if not closing:
                problems.append("disconnected by the server")
        try:
            await client.connect(url, headers={"Cookie": cookie, "Origin": url},
                                 transports=["websocket"], wait_timeout=30)
            await client.emit("join_admin_room")
            return client
        except Exception as exc:
            problems.append(f"connect failed: {exc!r}")
            return None

    clients = []
    for start in range(0, len(cookies), 25):  # a crowd arriving, not one burst
        made = await asyncio.gather(*(one(start + i, c) for i, c in enumerate(cookies[start:start + 25])))
        clients += [c for c in made if c is not None]
    await asyncio.sleep(2)
    ready.put(len(clients))
    before = dict(counts)
    while not stop.is_set():
        await asyncio.sleep(0.2)
    closing = True
    during = [counts[i] - before.get(i, 0) for i in counts]
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
    return {"connected": len(clients), "min_updates": min(during, default=0), "problems": problems}


def load(url: str, admin: requests.Session, seconds: float, tag: str) -> dict[str, list[float]]:
    """For ``seconds``: ingest 1,000-item batches back to back, and GET health four times a second."""
    timings: dict[str, list[float]] = {"ingest": [], "health": []}
    failures: list[str] = []
    end = time.monotonic() + seconds

    def ingest():
        n = 0
        while time.monotonic() < end:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
            body = {"transactions": [{"id": f"{tag}-{n}-{i}", "amount_cents": 100 + i, "currency": "USD",
                                      "status": "completed", "customer_id": f"c{i % 300}",
                                      "created_at": stamp} for i in range(1000)]}
            began = time.perf_counter()
            resp = requests.post(f"{url}/api/v1/events", json=body, timeout=60,
                                 headers={"Authorization": f"Bearer {INGEST_KEY}"})
            timings["ingest"].append(time.perf_counter() - began)
            if resp.status_code != 202:
                failures.append(f"ingest {resp.status_code}")
            n += 1

    def health():
        while time.monotonic() < end:
            began = time.perf_counter()
            resp = admin.get(f"{url}/admin/api/health", timeout=60)
            timings["health"].append(time.perf_counter() - began)
            if resp.status_code not in (200, 503):
                failures.append(f"health {resp.status_code}")
            time.sleep(max(0.0, 0.25 - (time.perf_counter() - began)))

    threads = [threading.Thread(target=ingest), threading.Thread(target=health)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"FAILED: {len(failures)} HTTP errors, first {failures[:3]}")
    return timings


def stats(values: list[float]) -> tuple[float, float, float]:
    """p50, p95, max in milliseconds."""
    ms = sorted(v * 1000 for v in values)
    p95 = statistics.quantiles(ms, n=100)[94] if len(ms) > 1 else ms[0]
    return statistics.median(ms), p95, ms[-1]


def worker_rss(server) -> int:
    """RSS of the gunicorn worker (the child of the arbiter that serves)."""
    children = psutil.Process(server.proc.pid).children()
    return sum(c.memory_info().rss for c in children) if children else 0


def worker_cpu(server) -> float:
    """CPU seconds the gunicorn worker has used so far."""
    return sum(sum(c.cpu_times()[:2]) for c in psutil.Process(server.proc.pid).children())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: a new SQLite file)")
    args = parser.parse_args()
    sockets = max(1, min(args.sockets, 2000))
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.database or f"sqlite:///{tmp}/bench.db"
        if args.database:  # a schema of its own, dropped at the end
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            from sqlalchemy import create_engine, text

            with create_engine(args.database).begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            db_url = f"{args.database}{'&' if '?' in args.database else '?'}options=-csearch_path%3D{schema}"
        create_admins(db_url)
        server = start_server(Path(tmp), gunicorn=PRODUCTION, env={
            "DATABASE_URL": db_url, "REDIS_URL": "", "INGEST_API_KEY": INGEST_KEY,
            "INGEST_RATE_LIMIT": "100000 per minute", "LIVE_UPDATE_INTERVAL": "1",
            "SAMPLE_INTERVAL": "1", "LOG_CAPTURE": "false"})
        stop = mp.Event()
        try:
            admin = login(server.url, "admin0")
            print(f"\nserver {server.url}: gunicorn {' '.join(PRODUCTION)}, "
                  f"{'PostgreSQL' if args.database else 'SQLite'}, {sockets} sockets of {USERS} admins, "
                  f"{args.seconds:g} s per phase, cpus={os.cpu_count()}, "
                  f"load average {os.getloadavg()[0]:.1f}")
            load(server.url, admin, 3, "warm")  # caches, pools, first tick
            rss_idle = worker_rss(server)
            cpu = worker_cpu(server)
            quiet = load(server.url, admin, args.seconds, "quiet")
            cpu_quiet, cpu = worker_cpu(server) - cpu, worker_cpu(server)
            cookies = ["; ".join(f"{c.name}={c.value}" for c in login(server.url, f"admin{i % USERS}").cookies)
                       for i in range(USERS)]
            per_socket = [cookies[i % USERS] for i in range(sockets)]
            ready, out = mp.Queue(), mp.Queue()
            procs = max(1, min(args.procs, sockets))
            workers = [mp.Process(target=client_worker,
                                  args=(server.url, per_socket[i::procs], ready, stop, out))
                       for i in range(procs)]
            for w in workers:
                w.start()
            connected = sum(ready.get(timeout=300) for _ in workers)
            cpu = worker_cpu(server)
            busy = load(server.url, admin, args.seconds, "busy")
            cpu_busy = worker_cpu(server) - cpu
            rss_busy = worker_rss(server)
            check = admin.get(f"{server.url}/admin/api/self-cost", timeout=60).json()["sockets"]
            stop.set()
            results = [out.get(timeout=120) for _ in workers]
            for w in workers:
                w.join(30)
        finally:
            stop.set()
            server.stop()
            if args.database:
                from sqlalchemy import create_engine, text

                with create_engine(args.database).begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    problems = [p for r in results for p in r["problems"]]
    starved = min(r["min_updates"] for r in results)
    print(f"{'phase':<26} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    worst = 0.0
    for phase, timings in ((f"no socket", quiet), (f"{connected} sockets open", busy)):
        for kind in ("ingest", "health"):
            p50, p95, top = stats(timings[kind])
            worst = max(worst, p95)
            label = f"{kind} ({phase})"
            print(f"{label:<26} {len(timings[kind]):>8} {p50:>8.1f} {p95:>8.1f} {top:>8.1f}")
    for kind in ("ingest", "health"):
        print(f"p95 ratio {kind}: {stats(busy[kind])[1] / stats(quiet[kind])[1]:.2f}x with the sockets open")
    print(f"worker CPU: {cpu_quiet / args.seconds:.0%} of one core with no socket, "
          f"{cpu_busy / args.seconds:.0%} with {connected} sockets")
    print(f"worker RSS: {rss_idle / 2**20:.1f} MB idle, {rss_busy / 2**20:.1f} MB with {connected} sockets "
          f"(+{(rss_busy - rss_idle) / max(1, connected) / 1024:.0f} KB per socket)")
    print(f"session check per tick: {check['last_check']['sockets']} sockets in "
          f"{check['last_check']['ms']} ms; fewest live_update per socket during the phase: {starved}")
    failed = []
    if connected < sockets or problems:
        failed.append(f"{connected} of {sockets} sockets connected, {len(problems)} problems "
                      f"(first: {problems[:3]})")
    if starved < 1:
        failed.append("a socket received no live_update while HTTP was measured")
    if worst >= 1000:
        failed.append(f"a p95 of {worst:.0f} ms (target < 1000 ms)")
    if failed:
        raise SystemExit("FAILED: " + "; ".join(failed))
    print("ok: every p95 under 1 s with every socket connected and receiving")


if __name__ == "__main__":
    main()
