"""The dashboard pages as HTML: behind the login, complete, and within the CSP (no inline code).

What the pages do in a browser is tested in tests/browser/.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGES = {
    "/admin/dashboard": ["chart-system", "chart-status", "live-transactions", "activity-feed"],
    "/admin/revenue": ["chart-revenue", "chart-revenue-status", "chart-revenue-orders", "range-start", "range-end"],
    "/admin/performance": ["chart-latency", "chart-throughput", "chart-system", "endpoints"],
    "/admin/activity": ["chart-actions", "heatmap", "activity-feed", "live-transactions"],
    "/admin/metrics": ["chart-metric", "table-metric", "catalog", "metric-name", "metric-match"],
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("path", list(PAGES))
def test_pages_need_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("path", list(PAGES))
def test_pages_render_their_parts_without_inline_code(viewer_client, path):
    response = viewer_client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for element_id in PAGES[path]:
        assert f'id="{element_id}"' in html, f"{path} lacks #{element_id}"
    # The CSP (script-src 'self'; style-src 'self') would block these in the browser.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    # Every script and stylesheet it names exists under static/.
    for ref in re.findall(r'(?:src|href)="/static/([^"?]+)', html):
        assert (STATIC / ref).is_file(), f"{path} loads a missing file {ref}"
    assert "vendor/socket.io-4.8.4/socket.io.min.js" in html
    assert 'id="conn-badge"' in html and 'id="refresh-btn"' in html
    assert "vendor/chartjs-4.6.1/chart.umd.min.js" in html
    assert "Show as table" in html
    assert 'name="csrf-token"' in html


@pytest.mark.sqlite_only
def test_nav_links_every_dashboard_page(viewer_client):
    html = viewer_client.get("/admin/dashboard").get_data(as_text=True)
    for path in PAGES:
        assert f'href="{path}"' in html


@pytest.mark.sqlite_only
def test_login_page_loads_no_live_client(client):
    """Anonymous visitors get neither the socket client nor the chart library."""
    html = client.get("/admin/login").get_data(as_text=True)
    assert "socket.io.min.js" not in html and "live.js" not in html and "chart.umd" not in html


def test_vendored_files_match_their_recorded_checksums():
    """The vendored libraries are the npm files recorded in static/vendor/README.md, unchanged."""
    readme = (STATIC / "vendor" / "README.md").read_text()
    rows = re.findall(r"\| `([^`]+\.js)` \| [^|]+\| `([0-9a-f]{64})` \|", readme)
    assert len(rows) == 2, rows
    for name, digest in rows:
        data = (STATIC / "vendor" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name
    assert (STATIC / "vendor" / "chartjs-4.6.1" / "LICENSE.md").is_file()
    assert (STATIC / "vendor" / "socket.io-4.8.4" / "LICENSE").is_file()

