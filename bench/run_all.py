"""Run every benchmark of the project and print ONE table: each figure beside its target.

    python bench/run_all.py              # every benchmark at its documented size (long: see below)
    python bench/run_all.py --quick      # small sizes, a few minutes: a smoke check, not the record
    python bench/run_all.py --only ingest,analytics --keep-output /tmp/bench-out

Each script runs in its own process (as documented in its docstring) and prints its own table;
this runner keeps that output (``--keep-output DIR`` saves it) and reads the headline figures from
it. A script that is missing, fails, or prints something the reader does not recognise shows up
as a row saying so: a figure is never invented. The machine's load average is printed with the
table, because every figure here is wall or CPU time on a possibly shared machine.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run_all_parsers import PARSERS, Result  # noqa: E402  (needs the path above)


@dataclass
class Bench:
    """One script: its arguments at full size and in --quick mode, and how to read its output."""

    name: str
    script: str
    full: list[str]
    quick: list[str]
    parse: Callable[[str], list[Result]]


BENCHES = [
    Bench("ingest", "ingest.py", [], ["--batches", "5"], PARSERS["ingest"]),
    Bench("request overhead", "request_overhead.py", [],
          ["--rounds", "3", "--requests", "500"], PARSERS["request_overhead"]),
    Bench("analytics", "analytics.py", [],
          ["--sizes", "10000,100000", "--repeat", "3", "--raw-repeat", "1"], PARSERS["analytics"]),
    Bench("fan-out", "fanout.py", [], ["--clients", "50,200", "--pushes", "3"], PARSERS["fanout"]),
    Bench("sockets + HTTP", "sockets_http.py", [], ["--sockets", "200", "--seconds", "5"],
          PARSERS["sockets_http"]),
    Bench("export memory", "export_memory.py", [], ["--rows", "20000"], PARSERS["export_memory"]),
    Bench("alerts", "alerts.py", [], ["--sizes", "10000,100000", "--repeat", "5"], PARSERS["alerts"]),
    Bench("insights", "insights.py", ["--sizes", "1000000,10000000", "--per-day", "11111", "--repeat", "3"],
          ["--sizes", "100000,200000", "--per-day", "1111", "--repeat", "2"], PARSERS["insights"]),
    Bench("insights (PostgreSQL)", "insights_pg.py", ["--sizes", "1000000"],
          ["--sizes", "100000", "--repeat", "2"], PARSERS["insights_pg"]),
    Bench("logs query", "logs_query.py", [], ["--sizes", "10000,100000"], PARSERS["logs_query"]),
    Bench("page weight", "dashboard_assets.py", [], [], PARSERS["dashboard_assets"]),
    Bench("metrics", "metrics.py", [], ["--batches", "5", "--big", "100000"], PARSERS["metrics"]),
]


def run_one(bench: Bench, quick: bool, timeout: float, keep: Path | None) -> list[Result]:
    """Run one script and read its figures; failures become rows, never exceptions."""
    path = HERE / bench.script
    if not path.exists():
        return [Result(bench.name, "script not present", None, "", "", None)]
    args = [sys.executable, str(path), *(bench.quick if quick else bench.full)]
    print(f"running {' '.join(args[1:])} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        proc = subprocess.run(args, cwd=HERE.parent, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [Result(bench.name, f"timed out after {timeout:.0f} s", None, "", "", False)]
    output = proc.stdout + ("\n" + proc.stderr if proc.stderr else "")
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / f"{path.stem}.txt").write_text(output)
    print(f"  done in {time.monotonic() - started:.0f} s (exit {proc.returncode})", file=sys.stderr)
    if proc.returncode != 0:
        tail = output.strip().splitlines()[-1:] or ["no output"]
        return [Result(bench.name, f"failed (exit {proc.returncode}): {tail[0][:80]}", None, "", "", False)]
    results = bench.parse(proc.stdout)
    return results or [Result(bench.name, "output not recognised (see --keep-output)", None, "", "", None)]


def fmt(value: float | None) -> str:
    """A figure with sensible precision."""
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def table(results: list[Result]) -> str:
    """The combined table in Markdown (readable in a terminal too)."""
    lines = ["| benchmark | figure | measured | unit | target | ok |", "| --- | --- | ---: | --- | --- | :---: |"]
    for r in results:
        ok = {True: "yes", False: "**no**", None: "—"}[r.ok]
        lines.append(f"| {r.bench} | {r.name} | {fmt(r.figure)} | {r.unit} | {r.target or '—'} | {ok} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks and print the table; exit 1 when a target was missed or a run failed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (minutes, not hours)")
    parser.add_argument("--only", default="", help="comma-separated benchmark names or script stems")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per script")
    parser.add_argument("--keep-output", type=Path, default=None, help="save each script's output here")
    args = parser.parse_args(argv)
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    chosen = [b for b in BENCHES if not wanted or b.name in wanted or Path(b.script).stem in wanted]
    load_before = os.getloadavg()[0]
    results: list[Result] = []
    for bench in chosen:
        results += run_one(bench, args.quick, args.timeout, args.keep_output)
    load_after = os.getloadavg()[0]
    print()
    print(f"{'Quick' if args.quick else 'Full'} run, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPUs, load average {load_before:.1f} before / {load_after:.1f} after")
    print()
    print(table(results))
    return 1 if any(r.ok is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
