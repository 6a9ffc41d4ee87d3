"""Time from a ``live_update`` push to its receipt, for 50, 200 and 500 connected admins.

Starts the real panel (``python app.py``) with a short ``LIVE_UPDATE_INTERVAL``, logs in once,
then connects N python-socketio ``AsyncClient``s (websocket transport, one asyncio loop per
client process) that all join room ``admin``.
For each of the next pushes every client notes ``receipt time - snapshot timestamp``: the
snapshot is stamped when its last figure has been read, just before it is cached and emitted,
so the figure is the emit to the room plus the delivery to every socket. Clients live in
a few worker processes so one client process's GIL does not queue the receipts. (Thread-per-
client receivers measured their own scheduling: 116 ms p95 at 500 clients against 40 ms for
the same server with asyncio receivers, in one morning's runs on the same machine.)

    python bench/fanout.py                        # 50, 200, 500 clients, 5 pushes each
    python bench/fanout.py --clients 50,200 --pushes 3
    python bench/fanout.py --server production    # under gunicorn -k gevent instead

A size at which any client fails to connect, is refused or is disconnected stops the run with
exit status 1 and the reason: a percentile over fewer clients than asked is no figure.
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
import time
from datetime import datetime
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import PRODUCTION, start_server  # noqa: E402

ADMIN = ("bench", "bench-password-1")


def login(url: str) -> str:
    """The Cookie header of a fresh admin session."""
    web = requests.Session()
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      web.get(f"{url}/admin/login", timeout=10).text).group(1)
    resp = web.post(f"{url}/admin/login", data={"username": ADMIN[0], "password": ADMIN[1],
                                                "csrf_token": token}, allow_redirects=False,
                    timeout=10)
    assert resp.status_code == 302, resp.status_code
    return "; ".join(f"{c.name}={c.value}" for c in web.cookies)


def worker(url: str, cookie: str, count: int, pushes: int, timeout: float, out: mp.Queue) -> None:
    """Connect ``count`` clients, collect latencies (ms) of ``pushes`` pushes, disconnect.

    The clients of one process share one asyncio loop (python-socketio's ``AsyncClient``): a
    receipt costs a callback, not a wake-up of one of hundreds of client threads, so the figure
    is the server's delivery rather than the load generator's scheduling.
    """
    out.put(asyncio.run(_clients(url, cookie, count, pushes, timeout)))


async def _clients(url: str, cookie: str, count: int, pushes: int,
                   timeout: float) -> tuple[int, list[float], list[str]]:
    latencies: list[float] = []
    problems: list[str] = []  # refusals, server errors, drops: each one voids the figure
    done = asyncio.Event()
    per_seq: dict[int, int] = {}
    state = {"baseline": None, "max_seen": 0, "expected": count}

    def on_update(snap):
        now = time.time()
        sent = datetime.fromisoformat(snap["timestamp"]).timestamp()
        state["max_seen"] = max(state["max_seen"], snap["seq"])
        if state["baseline"] is None or snap["seq"] <= state["baseline"]:
            return  # the answer to a join, or a push before every client was in
        latencies.append((now - sent) * 1000.0)
        per_seq[snap["seq"]] = per_seq.get(snap["seq"], 0) + 1
        if sum(1 for n in per_seq.values() if n >= state["expected"]) >= pushes:
            done.set()

    async def make() -> socketio.AsyncClient | None:
        client = socketio.AsyncClient(reconnection=False)
        client.on("live_update", on_update)
        client.on("error", lambda err: problems.append(f"error event {err}"))
        try:
            await client.connect(url, headers={"Cookie": cookie, "Origin": url},
                                 transports=["websocket"], wait_timeout=20)
            await client.emit("join_admin_room")
        except Exception as exc:  # reported, never hidden
            problems.append(f"connect failed: {exc!r}")
            return None

        @client.on("disconnect")
        def dropped(*_reason):
            if not state.get("closing"):
                problems.append("disconnected by the server")
        return client

    clients = []
    for start in range(0, count, 32):  # connect a few dozen at a time, as a crowd would arrive
        made = await asyncio.gather(*(make() for _ in range(min(32, count - start))))
        clients += [c for c in made if c is not None]
    await asyncio.sleep(0.5)  # let the joins' own answers arrive
    state["expected"] = len(clients)
    # Only pushes after the latest one anybody has seen count: every client is in the room.
    state["baseline"] = state["max_seen"]
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except asyncio.TimeoutError:
        pass
    state["closing"] = True
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
    return len(clients), list(latencies), problems


def measure(url: str, cookie: str, clients: int, pushes: int,
            procs: int) -> tuple[int, list[float], list[str]]:
    """Run ``clients`` clients split over ``procs`` processes; (connected, latencies in ms, problems)."""
    out: mp.Queue = mp.Queue()
    shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    workers = [mp.Process(target=worker, args=(url, cookie, n, pushes, 60.0, out))
               for n in shares if n]
    for w in workers:
        w.start()
    results = [out.get(timeout=180) for _ in workers]
    for w in workers:
        w.join(30)
    return (sum(r[0] for r in results), [x for r in results for x in r[1]],
            [p for r in results for p in r[2]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="50,200,500")
    parser.add_argument("--pushes", type=int, default=5)
    parser.add_argument("--interval", type=float, default=1.0, help="LIVE_UPDATE_INTERVAL")
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument("--server", choices=("app", "production"), default="app",
                        help="python app.py (threading), or the production gunicorn -k gevent")
    args = parser.parse_args()
    sizes = [min(int(n), 1000) for n in args.clients.split(",")]
    pushes = max(1, min(args.pushes, 20))
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), gunicorn=PRODUCTION if args.server == "production" else None,
                              env={
            "ADMIN_USERNAME": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1], "REDIS_URL": "",
            "LIVE_UPDATE_INTERVAL": str(args.interval), "SAMPLE_INTERVAL": str(args.interval),
            # One admin with every tab open: this measures the push, not the per-user cap.
            "SOCKETS_PER_USER": str(max(sizes))})
        try:
            cookie = login(server.url)
            print(f"\nserver {server.url} ({args.server}), push every {args.interval}s, {pushes} "
                  f"pushes per size, clients in {args.procs} processes, cpus={os.cpu_count()}")
            print(f"{'clients':>8} {'connected':>10} {'receipts':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
            for n in sizes:
                connected, lat, problems = measure(server.url, cookie, n, pushes,
                                                   max(1, min(args.procs, n)))
                if connected < n or problems:
                    print(f"{n:>8} {connected:>10} {len(lat):>9} {'-':>8} {'-':>8} {'-':>8}")
                    raise SystemExit(f"FAILED at {n} clients: {connected} connected, "
                                     f"{len(problems)} problems, first: {problems[:3]}; "
                                     "no figure over fewer clients than asked")
                if not lat:
                    print(f"{n:>8} {connected:>10} {0:>9} {'-':>8} {'-':>8} {'-':>8}")
                    continue
                q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
                print(f"{n:>8} {connected:>10} {len(lat):>9} {statistics.median(lat):>8.1f} "
                      f"{q[94]:>8.1f} {max(lat):>8.1f}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
