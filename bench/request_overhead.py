"""What the request timer costs a trivial Flask endpoint, side by side in one run.

Copies of the same one-line endpoint: no timer (baseline), three no-op hooks (what Flask charges
any before/after/teardown timer before it does anything), the panel's request timer
(``services.monitor.performance_monitor.install_timer``: a WSGI wrapper that queues one tuple per
request, folded a batch at a time into count, errors, sum, max and a log-spaced histogram per
endpoint; the folding's CPU is counted too), and ``prometheus_client``'s ``Histogram`` plus an
error ``Counter`` doing the same job. Rounds are interleaved in a new random order each
round so drift of the machine hits every variant alike; the overhead is the median over rounds of
each round's ratio to the baseline measured in that same round, with the quartiles beside it.

Modes:
  wsgi  the full Flask request cycle called in-process from several threads: no network and
        no server, so the timer's share is as large as it can ever be (the strictest figure);
  http  each variant served by a real threaded server (werkzeug, HTTP/1.1 keep-alive) in its
        own process, loaded by several client threads (what a deployment sees).
Both report CPU time per request (of the calling threads, or of the server process), which a
busy shared machine blurs far less than wall time.

    python bench/request_overhead.py                       # both modes, bounded (~1 minute)
    python bench/request_overhead.py --mode wsgi --rounds 9 --requests 4000 --threads 4
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, g, request  # noqa: E402

VARIANTS = ("none", "empty-hooks", "panel", "prometheus")


def build_app(variant: str) -> Flask:
    """The trivial endpoint with one kind of request timing (or none)."""
    app = Flask(f"bench_{variant}")

    @app.route("/ping")
    def ping():
        return "ok"

    if variant == "empty-hooks":
        # The floor of any hook-based timer: Flask calling three hooks that do nothing.
        app.before_request(lambda: None)
        app.after_request(lambda response: response)
        app.teardown_request(lambda exc: None)
    elif variant == "panel":
        from services.monitor import install_timer

        # No scheduler runs here: a small bound makes the requests fold the queue themselves,
        # so the folding's CPU is counted with them, as the scheduler's is in the server.
        install_timer(app, fold_at=500)
    elif variant == "prometheus":
        from prometheus_client import CollectorRegistry, Counter, Histogram

        registry = CollectorRegistry()
        latency = Histogram("request_seconds", "latency", ["endpoint", "method"], registry=registry)
        errors = Counter("request_errors", "5xx", ["endpoint", "method"], registry=registry)

        @app.before_request
        def _start():
            g._prom_start = time.perf_counter()

        @app.after_request
        def _stop(response):
            start = g.pop("_prom_start", None)
            if start is not None:
                labels = (request.endpoint or "(unmatched)", request.method)
                latency.labels(*labels).observe(time.perf_counter() - start)
                if response.status_code >= 500:
                    errors.labels(*labels).inc()
            return response
    return app


# -- wsgi mode ------------------------------------------------------------------------------------

def wsgi_round(app: Flask, threads: int, requests: int) -> float:
    """CPU microseconds per request for ``threads`` × ``requests`` in-process calls.

    CPU time of the calling threads (``time.thread_time``), not wall time: other work on a
    shared machine then does not blur a difference of a few microseconds.
    """
    from werkzeug.test import EnvironBuilder

    base = EnvironBuilder(path="/ping", method="GET").get_environ()
    spent: list[float] = []

    def start_response(status, headers, exc_info=None):
        return None

    def worker():
        began = time.thread_time()
        for _ in range(requests):
            for _chunk in app(dict(base), start_response):
                pass
        spent.append(time.thread_time() - began)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(spent) / (threads * requests) * 1e6


# -- http mode ------------------------------------------------------------------------------------

def serve(variant: str, port: int) -> None:
    """Serve one variant until killed (run in a child process)."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    WSGIRequestHandler.protocol_version = "HTTP/1.1"  # keep-alive, as a proxy would use
    WSGIRequestHandler.log_request = lambda *a, **k: None
    make_server("127.0.0.1", port, build_app(variant), threaded=True).serve_forever()


def http_round(port: int, pid: int, threads: int, requests: int) -> float:
    """Server CPU microseconds per request with ``threads`` keep-alive clients hammering it.

    The server's own CPU time (user + system, from psutil), so the clients and whatever else
    runs on the machine do not count.
    """
    import http.client

    import psutil

    server = psutil.Process(pid)
    before = server.cpu_times()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(requests):
            conn.request("GET", "/ping")
            resp = conn.getresponse()
            resp.read()
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    after = server.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return used / (threads * requests) * 1e6


def start_servers() -> tuple[dict[str, int], list[subprocess.Popen]]:
    """One server process per variant on a free port; waits until each answers."""
    import socket
    import urllib.request

    ports, procs = {}, []
    for variant in VARIANTS:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports[variant] = s.getsockname()[1]
        procs.append(subprocess.Popen([sys.executable, __file__, "--serve", variant,
                                       str(ports[variant])], cwd=os.getcwd()))
    deadline = time.monotonic() + 20
    for variant, port in ports.items():
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    return ports, procs


# -- the table ------------------------------------------------------------------------------------

def run(mode: str, rounds: int, threads: int, requests: int) -> dict[str, float]:
    """Median µs/request per variant over interleaved rounds; prints the table."""
    results: dict[str, list[float]] = {v: [] for v in VARIANTS}
    procs: list[subprocess.Popen] = []
    try:
        if mode == "wsgi":
            apps = {v: build_app(v) for v in VARIANTS}
            measure = lambda v: wsgi_round(apps[v], threads, requests)  # noqa: E731
        else:
            ports, procs = start_servers()
            pids = {v: p.pid for v, p in zip(VARIANTS, procs)}
            measure = lambda v: http_round(ports[v], pids[v], threads, requests)  # noqa: E731
        for v in VARIANTS:  # warm-up, not counted
            measure(v)
        order = list(VARIANTS)
        for _ in range(rounds):
            random.shuffle(order)
            for v in order:
                results[v].append(measure(v))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(5)
    medians = {v: statistics.median(xs) for v, xs in results.items()}
    base = medians["none"]
    print(f"\nmode={mode} threads={threads} requests/thread={requests} rounds={rounds}")
    print("overhead: median of the per-round ratios to 'none' measured in the same round, "
          "with the quartiles of those ratios")
    unit = "cpu µs/req"
    print(f"{'variant':<12} {unit:>11} {'overhead':>9} {'vs none':>8} {'quartiles':>17}")
    for v in VARIANTS:
        ratios = [(x / b - 1) * 100 for x, b in zip(results[v], results["none"])]
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        extra = medians[v] - base
        print(f"{v:<12} {medians[v]:>11.1f} {extra:>+8.1f}µ {statistics.median(ratios):>+7.1f}% "
              f"{q[0]:>+7.1f}%..{q[2]:>+6.1f}%")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("wsgi", "http", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000, help="per thread and round")
    parser.add_argument("--serve", nargs=2, metavar=("VARIANT", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    for mode in (("wsgi", "http") if args.mode == "both" else (args.mode,)):
        run(mode, max(1, min(args.rounds, 50)), max(1, min(args.threads, 64)),
            max(10, min(args.requests, 50000)))


if __name__ == "__main__":
    main()
