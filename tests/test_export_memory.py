"""A large export streams: the real server's memory barely moves while it downloads.

The full 200,000-row figures (and 1,000,000 rows) come from ``bench/export_memory.py`` and are
recorded in docs/PERFORMANCE.md; this keeps a smaller run in the suite as a regression guard.
"""
from __future__ import annotations

import pytest

from bench.export_memory import run

ROWS = 60_000


@pytest.mark.timeout(180)
def test_large_json_and_csv_exports_stay_in_constant_memory(tmp_path):
    results = {r["format"]: r for r in run(ROWS, ["json", "csv"], None, tmp_path)}
    # Every row arrived: one line per row plus the header (CSV) or the brackets (JSON).
    assert results["csv"]["lines"] == ROWS + 1
    assert results["json"]["lines"] == ROWS + 2
    # Holding the file (15 MB of JSON, several times that as Python objects) would show here.
    for form, r in results.items():
        assert r["delta_mb"] < 25, f"{form}: server RSS grew {r['delta_mb']:.1f} MB during the download"
