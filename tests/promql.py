"""Prometheus's side of the comparisons: scraping /metrics as Prometheus parses it, its
``histogram_quantile`` as the Prometheus documentation defines it, and Debian's ``promtool``
to evaluate rule files and PromQL with Prometheus's own engine."""
from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import unreachable

TOKEN = "metrics-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[str, dict[frozenset, float]]


def scrape(client) -> Samples:
    """Samples of /metrics as {sample name: {frozenset(labels): value}}."""
    resp = client.get("/metrics", headers=AUTH)
    assert resp.status_code == 200, resp.data
    assert resp.headers["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return samples


def value(samples: Samples, name: str, **labels) -> float:
    """One sample's value; KeyError when the series is not exposed."""
    return samples[name][frozenset(labels.items())]


def buckets(samples: Samples, name: str, **labels) -> dict[str, float]:
    """``le`` label value -> cumulative count of one histogram series."""
    out = {}
    for key, count in samples.get(f"{name}_bucket", {}).items():
        found = dict(key)
        le = found.pop("le")
        if found == labels:
            out[le] = count
    return out


def histogram_quantile(q: float, cumulative: dict[str, float]) -> float:
    """``histogram_quantile(q, b)`` over the cumulative bucket counts ``{le: count}``.

    As documented by Prometheus: buckets sorted by upper bound, the highest must be +Inf; the
    rank is q times the +Inf count; the quantile lies in the first bucket whose count reaches the
    rank and is interpolated linearly between that bucket's lower and upper bound (the lower bound
    of the lowest bucket is 0 when its upper bound is positive); a rank in the +Inf bucket answers
    the second highest bound.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    points = sorted((float(le), count) for le, count in cumulative.items())
    if len(points) < 2 or not math.isinf(points[-1][0]):
        return math.nan
    # Counts may only grow with the bound (Prometheus evens out float noise the same way).
    running = 0.0
    points = [(le, (running := max(running, count))) for le, count in points]
    total = points[-1][1]
    if total == 0:
        return math.nan
    rank = q * total
    b = next((i for i, (_, count) in enumerate(points[:-1]) if count >= rank), len(points) - 1)
    if b == len(points) - 1:
        return points[-2][0]
    if b == 0 and points[0][0] <= 0:
        return points[0][0]
    start, below = (points[b - 1][0], points[b - 1][1]) if b > 0 else (0.0, 0.0)
    end, count = points[b][0], points[b][1] - below
    return start + (end - start) * ((rank - below) / count)


def promtool() -> str:
    """Path of Debian's promtool (package ``prometheus``); skipped locally, a failure in CI."""
    path = shutil.which("promtool")
    if path is None:
        unreachable("promtool", "apt-get install prometheus")
    return path


def series_line(name: str, labels: dict[str, str]) -> str:
    """A series in PromQL selector notation, as promtool's input_series wants it."""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def run_promtool_tests(tmp_path: Path, rule_text: str, tests: list[dict]) -> str:
    """``promtool check rules`` on ``rule_text``, then ``promtool test rules`` with ``tests``;
    asserts both pass and returns promtool's output."""
    tool = promtool()
    rules = tmp_path / "rules.yml"
    rules.write_text(rule_text)
    check = subprocess.run([tool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    spec = tmp_path / "tests.yml"
    spec.write_text(yaml.safe_dump({"rule_files": [rules.name], "evaluation_interval": "1m",
                                    "tests": tests}, sort_keys=False))
    run = subprocess.run([tool, "test", "rules", spec.name], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout + run.stderr


def close_to(expr: str, expected: float, rel: float = 1e-9) -> str:
    """PromQL that is 1 when ``expr`` (one sample) is within ``rel`` of ``expected``, else 0."""
    return f"abs(({expr}) - {expected!r}) <= bool {abs(expected) * rel!r}"
