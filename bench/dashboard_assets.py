"""What each dashboard page makes the browser download: JS and CSS, raw and gzipped.

Renders every page with the test client (logged in), collects the scripts, stylesheets and
module preloads it names, follows the ES module imports of those scripts, and sums the files'
sizes as served and as gzip (level 6, what a compressing proxy would send). The target is under
300 KB gzipped per page. No browser is needed; tests/browser measures the same in Chromium.

    python bench/dashboard_assets.py
"""
from __future__ import annotations

import gzip
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATIC = ROOT / "static"
PAGES = ["/admin/dashboard", "/admin/revenue", "/admin/performance", "/admin/activity",
         "/admin/alerts", "/admin/logs"]
TAG = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="/static/([^"?]+\.(?:js|css))"')
IMPORT = re.compile(r'^\s*import\b[^"\']*["\'](\./[^"\']+\.js)["\']', re.M)


def page_assets(html: str) -> set[Path]:
    """Every static JS/CSS file a page loads, module imports included."""
    todo = [STATIC / ref for ref in TAG.findall(html)]
    seen: set[Path] = set()
    while todo:
        path = todo.pop().resolve()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        if path.suffix == ".js" and "vendor" not in path.parts:
            todo.extend(path.parent / ref for ref in IMPORT.findall(path.read_text()))
    return seen


def main() -> int:
    from app_factory import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": False,
                          "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "REDIS_URL": None,
                          "ADMIN_USERNAME": "bench", "ADMIN_PASSWORD": "bench-password-1",
                          "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "WTF_CSRF_ENABLED": False,
                          "DEMO": False})
        client = app.test_client()
        client.post("/admin/login", data={"username": "bench", "password": "bench-password-1"})
        print(f"{'page':<22}{'files':>6}{'raw KB':>10}{'gzip KB':>10}   largest (gzip KB)")
        for page in PAGES:
            response = client.get(page)
            if response.status_code != 200:
                print(f"{page:<22}  (answered {response.status_code})")
                continue
            sizes = []
            for path in page_assets(response.get_data(as_text=True)):
                data = path.read_bytes()
                sizes.append((len(gzip.compress(data, 6)), len(data), path.relative_to(STATIC)))
            sizes.sort(reverse=True)
            raw = sum(s[1] for s in sizes) / 1024
            gz = sum(s[0] for s in sizes) / 1024
            top = ", ".join(f"{p.name} {g / 1024:.0f}" for g, _, p in sizes[:3])
            print(f"{page:<22}{len(sizes):>6}{raw:>10.1f}{gz:>10.1f}   {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
