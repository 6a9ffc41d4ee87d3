"""Readers of each benchmark script's printed table, for ``bench/run_all.py``.

Each reader takes the script's stdout and returns the headline figures with their targets (from
the requirements the benchmark was written for). A line it does not find gives no row, so the
runner reports "output not recognised" instead of a made-up number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Result:
    """One figure: ``ok`` is None when the figure has no target (shown for information)."""

    bench: str
    name: str
    figure: float | None
    unit: str
    target: str
    ok: bool | None


def _num(text: str) -> float:
    return float(text.replace(",", "").rstrip("x%"))


def ingest(out: str) -> list[Result]:
    """Items per second per backend and phase; the target is 5,000 new transactions/s on SQLite."""
    rows = []
    for m in re.finditer(r"^(sqlite|postgresql)\s+(new transactions|status changes|identical re-sends|"
                         r"mixed \S+)\s+\d+\s+\d+\s+[\d.]+\s+([\d,]+)", out, re.M):
        backend, phase, rate = m.group(1), m.group(2), _num(m.group(3))
        if backend == "sqlite" and phase == "new transactions":
            rows.append(Result("ingest", "SQLite, new transactions, batches of 1000 over HTTP", rate,
                               "items/s", ">= 5,000", rate >= 5000))
        else:
            rows.append(Result("ingest", f"{'SQLite' if backend == 'sqlite' else 'PostgreSQL'}, {phase}",
                               rate, "items/s", "", None))
    return rows


def request_overhead(out: str) -> list[Result]:
    """The panel timer's cost against no timer, per mode.

    The target (at most +5 % under load) is judged on a served endpoint (``http``); the in-process
    ``wsgi`` figure, a no-op request with no server around it, is the strictest view and reported
    beside it.
    """
    rows = []
    for block in re.split(r"^mode=", out, flags=re.M)[1:]:
        mode = block.split()[0]
        panel = re.search(r"^panel\s+([\d.]+)\s+\S+\s+([+-][\d.]+)%", block, re.M)
        prom = re.search(r"^prometheus\s+([\d.]+)\s+\S+\s+([+-][\d.]+)%", block, re.M)
        if panel:
            value = float(panel.group(2))
            served = mode == "http"
            rows.append(Result("request overhead", f"panel timer vs none ({mode}, CPU per request)", value,
                               "%", "<= +5%" if served else "—", value <= 5.0 if served else None))
        if prom:
            rows.append(Result("request overhead", f"prometheus_client histogram vs none ({mode})",
                               float(prom.group(2)), "%", "", None))
    return rows


def analytics(out: str) -> list[Result]:
    """Rollup query: largest/smallest ratio (< 2) and time at the largest size (< 50 ms)."""
    rows = []
    for m in re.finditer(r"^(wall|CPU): rollups ([\d,]+) vs ([\d,]+) transactions = ([\d.]+)x "
                         r"\(target < 2\), largest ([\d.]+) ms", out, re.M):
        kind, large, small, ratio, ms = m.group(1), m.group(2), m.group(3), float(m.group(4)), float(m.group(5))
        rows.append(Result("analytics", f"revenue 90 d hourly, {large} vs {small} transactions ({kind})",
                           ratio, "x", "< 2", ratio < 2))
        rows.append(Result("analytics", f"revenue 90 d hourly at {large} transactions, uncached ({kind})",
                           ms, "ms", "< 50", ms < 50))
    return rows


def fanout(out: str) -> list[Result]:
    """Emit-to-receipt p95 per client count; the target is p95 under 100 ms at 500 clients."""
    rows = []
    for m in re.finditer(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", out, re.M):
        clients, connected, p50, p95 = int(m.group(1)), int(m.group(2)), float(m.group(4)), float(m.group(5))
        note = f"p50 {p50:g} ms" + ("" if connected == clients else f", only {connected} connected")
        target = "< 100" if clients == 500 else ""
        ok = (p95 < 100 and connected == clients) if clients == 500 else None
        rows.append(Result("fan-out", f"p95 push to receipt, {clients} clients ({note})", p95, "ms",
                           target, ok))
    for m in re.finditer(r"^\s*(\d+)\s+(\d+)\s+0\s+-\s+-\s+-\s*$", out, re.M):
        rows.append(Result("fan-out", f"{m.group(1)} clients ({m.group(2)} connected): no update received",
                           None, "ms", "< 100" if m.group(1) == "500" else "", False))
    return rows


def logs_query(out: str) -> list[Result]:
    """Log page queries at the largest table size against the smallest (keyset paging: flat)."""
    header = re.search(r"^\s*rows\s+(.+?)\s+\(ms", out, re.M)
    lines = re.findall(r"^\s*([\d,]+)((?:\s+[\d.]+)+)\s*$", out, re.M)
    if not header or len(lines) < 2:
        return []
    names = re.split(r"\s{2,}", header.group(1).strip())
    small, large = lines[0], lines[-1]
    rows = []
    for name, a, b in zip(names, small[1].split(), large[1].split()):
        rows.append(Result("logs query", f"{name}: {large[0]} rows, ms (at {small[0]} rows: {a})",
                           float(b), "ms", "", None))
    return rows


def metrics(out: str) -> list[Result]:
    """Own metrics: HTTP ingest points/s (target 50,000 on SQLite), a 30-day query at a 1-hour
    step (target under 20 ms), and the 1-day query's cost at the big size against 10,000 points
    (target within 2x: the cost must not follow the points stored)."""
    rows = []
    for m in re.finditer(r"^(sqlite|postgresql)\s+(\d+)\s+[\d.]+\s+([\d,]+)\s", out, re.M):
        rate, sqlite = _num(m.group(3)), m.group(1) == "sqlite"
        rows.append(Result("metrics", f"{'SQLite' if sqlite else 'PostgreSQL'}, ingest of 1000-point batches over HTTP",
                           rate, "points/s", ">= 50,000" if sqlite else "", rate >= 50_000 if sqlite else None))
    q = {(m.group(1), m.group(2)): float(m.group(4)) for m in re.finditer(
        r"^(sqlite|postgresql)\s+(small_series|big_series|month_series)\s+([\d,]+)\s+.+?\s([\d.]+)\s*$", out, re.M)}
    for backend in ("sqlite", "postgresql"):
        label = "SQLite" if backend == "sqlite" else "PostgreSQL"
        if (backend, "month_series") in q:
            ms = q[(backend, "month_series")]
            rows.append(Result("metrics", f"{label}, 30-day query at a 1-hour step", ms, "ms", "< 20", ms < 20))
        if (backend, "small_series") in q and (backend, "big_series") in q:
            ratio = q[(backend, "big_series")] / q[(backend, "small_series")]
            rows.append(Result("metrics", f"{label}, 1-day query at 1-min step: big / 10,000 points", ratio,
                               "x", "<= 2", ratio <= 2))
    return rows


def dashboard_assets(out: str) -> list[Result]:
    """JS and CSS each page downloads, gzipped; the target is under 300 KB per page."""
    rows = []
    for m in re.finditer(r"^(/\S+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s", out, re.M):
        gz = float(m.group(4))
        rows.append(Result("page weight", f"{m.group(1)} ({m.group(2)} files), gzip", gz, "KB", "< 300",
                           gz < 300))
    return rows


def export_memory(out: str) -> list[Result]:
    """Peak server RSS above idle while a download streams; target under 100 MB (200,000 rows)."""
    rows = []
    size = re.search(r"export of ([\d,]+) transactions", out)
    count = size.group(1) if size else "?"
    for m in re.finditer(r"^(csv|json|xlsx)\s+[\d.]+\s+[\d.]+\s+[\d,]+\s+[\d.]+\s+[\d.]+\s+([\d.-]+)\s*$",
                         out, re.M):
        delta = float(m.group(2))
        rows.append(Result("export memory", f"{m.group(1)} export of {count} rows, peak RSS over idle",
                           delta, "MB", "< 100", delta < 100))
    return rows


def alerts(out: str) -> list[Result]:
    """Rule evaluation cost, largest vs smallest data size (should stay near 1)."""
    m = re.search(r"^([\d,]+) vs ([\d,]+) transactions: ([\d.]+)x \(shipped rules\), ([\d.]+)x \((\d+) rules\)",
                  out, re.M)
    if not m:
        return []
    return [Result("alerts", f"evaluate shipped rules, {m.group(1)} vs {m.group(2)} transactions",
                   float(m.group(3)), "x", "", None),
            Result("alerts", f"evaluate {m.group(5)} rules, {m.group(1)} vs {m.group(2)} transactions",
                   float(m.group(4)), "x", "", None)]


def insights(out: str) -> list[Result]:
    """Insight query cost, largest vs smallest data size at the same density (target < 2x: the
    cost must not grow with the table), and the largest size's own CPU ms."""
    m = re.search(r"^(CPU )?ratio largest / smallest: (.+)$", out, re.M)
    if not m:
        return []
    kind = " (CPU)" if m.group(1) else ""
    same_density = "transactions a day" in out
    rows = []
    for part in m.group(2).split(", "):
        name, _, ratio = part.rpartition(" ")
        value = _num(ratio)
        rows.append(Result("insights", f"{name}, largest vs smallest size{kind}", value, "x",
                           "< 2" if same_density else "", value < 2 if same_density else None))
    return rows + _largest_row(out, "insights", "uncached (CPU)")


def insights_pg(out: str) -> list[Result]:
    """The insight figures on PostgreSQL at the largest size (wall ms)."""
    return _largest_row(out, "insights (PostgreSQL)", "uncached (wall)")


def _largest_row(out: str, bench: str, what: str) -> list[Result]:
    """Each case of the table's last row ("wall / CPU" cells give their CPU part)."""
    header = re.search(r"^\| transactions \| in last 7 d \| (.+) \|$", out, re.M)
    lines = re.findall(r"^\| ([\d,]+) \| [\d,]+ \| (.+) \|$", out, re.M)
    if not (header and lines):
        return []
    size, cells = lines[-1]
    return [Result(bench, f"{name} at {size} transactions, {what}", _num(cell.split("/")[-1].strip()),
                   "ms", "", None)
            for name, cell in zip(header.group(1).split(" | "), cells.split(" | "))]


def sockets_http(out: str) -> list[Result]:
    """Ingest and health p95 with the sockets open (< 1 s), and the worker's RSS with them."""
    rows = []
    for m in re.finditer(r"^(ingest|health) \((\d+) sockets open\)\s+\d+\s+[\d.]+\s+([\d.]+)", out, re.M):
        p95 = float(m.group(3))
        rows.append(Result("sockets + HTTP", f"{m.group(1)} p95 with {m.group(2)} sockets open", p95,
                           "ms", "< 1000", p95 < 1000))
    rss = re.search(r"^worker RSS: [\d.]+ MB idle, ([\d.]+) MB with (\d+) sockets", out, re.M)
    if rss:
        rows.append(Result("sockets + HTTP", f"worker RSS with {rss.group(2)} sockets",
                           float(rss.group(1)), "MB", "", None))
    return rows


PARSERS = {"ingest": ingest, "sockets_http": sockets_http, "request_overhead": request_overhead, "analytics": analytics, "fanout": fanout,
           "export_memory": export_memory, "alerts": alerts, "insights": insights, "insights_pg": insights_pg,
           "logs_query": logs_query, "dashboard_assets": dashboard_assets, "metrics": metrics}
