"""Real-browser fixtures: one demo server per test module, one Chromium for the whole run.

Chromium is Debian's (``/usr/bin/chromium``, or ``CHROMIUM_PATH``); Playwright never downloads one.
Without it these tests skip with a reason locally and fail when ``CI=true``.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import IN_CI
from tests.servers import ServerProcess, start_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
USER, PASSWORD = "browser-admin", "browser-password-1"
# Test runs write here (ignored by git); SCREENSHOT_DIR=docs/screenshots refreshes the README's.
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parent / "screenshots")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}
INGEST_KEY = "browser-demo-ingest-key"
SERVER_ENV = {"DEMO_BACKFILL_DAYS": "3", "ADMIN_USERNAME": USER, "ADMIN_PASSWORD": PASSWORD,
              "LIVE_UPDATE_INTERVAL": "1", "SAMPLE_INTERVAL": "1", "INGEST_API_KEY": INGEST_KEY}
# Collects CSP violations from the page itself (runs before any page script, whatever the CSP).
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires the browser tests to run", pytrace=False)
    pytest.skip(message)


@dataclass
class Panel:
    """The running demo server, restartable on the same port and database."""

    server: ServerProcess
    tmp: Path
    restarts: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        # A graceful stop is not what these tests check; do not wait long for one.
        self.server.stop(timeout=3)

    def kill(self) -> None:
        """End the server abruptly, as a crash or a lost machine would."""
        self.server.proc.kill()
        self.server.proc.wait(10)

    def start_again(self) -> None:
        """Start ``python app.py --demo`` again on the same port and database (history is kept)."""
        deadline = time.monotonic() + 15
        while True:
            try:
                self.server = start_server(self.tmp, env=SERVER_ENV, demo=True, port=self.server.port)
                return
            except RuntimeError:
                # The port may linger for a moment after the old process exits.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


# Module scope (a module may override it with a server of its own); Chromium is started once.
@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """A real ``python app.py --demo`` with three days of history and a push every second."""
    _need_chromium()
    tmp = tmp_path_factory.mktemp("browser")
    server = start_server(tmp, env=SERVER_ENV, demo=True, wait=90)
    running = Panel(server, tmp)
    yield running
    running.stop()


def plain_panel(tmp_path_factory, name: str, env: dict[str, str] | None = None):
    """A server without demo traffic (so a page holds only what the test sends), for a module's
    own ``panel`` fixture to ``yield from``; ``env`` adds to ``SERVER_ENV``."""
    _need_chromium()
    tmp = tmp_path_factory.mktemp(name)
    server = start_server(tmp, env={**SERVER_ENV, "LOG_CAPTURE": "false", **(env or {})}, demo=False)
    running = Panel(server, tmp)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the module."""
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def login_state(panel, chromium):
    """Log in once through the form; later contexts reuse the session cookie."""
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{panel.url}/admin/login")
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/dashboard")
    state = context.storage_state()
    context.close()
    return state


class Watched:
    """A logged-in page plus what its console said (errors, CSP violations)."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.sent: list = []  # the Request objects, in the order the page sent them
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("request", self._sent)

    def _sent(self, request) -> None:
        self.requests.append(request.url)
        self.sent.append(request)

    def goto(self, path: str):
        return self.page.goto(f"{self.base_url}{path}")

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")

    def drawn_answer(self, chart_id: str, api_path: str, match=None, timeout: float = 10.0,
                     **query: str) -> dict:
        """Wait until chart ``chart_id`` draws the answer to the page's newest ``api_path`` request
        (whose query has ``query``'s values, e.g. ``period="hourly"``).

        An action (a click, a live update) starts a request whose answer is drawn a moment later,
        and the chart shows the previous answer until then: read it only once it shows the newest
        one. Drawn means the same bucket starts (``chart.$stamps``) and, when given,
        ``match(answer, datasets)`` true for the chart's datasets' data. Returns the answer, with
        the URL it came from under ``"url"``.
        """
        read = "id => { const c = window.panel.charts.chartFor(id);" \
               " return {stamps: c.$stamps || [], data: c.data.datasets.map(d => d.data)}; }"
        seen = None

        def shows_newest():
            nonlocal seen
            asked = [r for r in self.sent if urlparse(r.url).path == api_path
                     and all(parse_qs(urlparse(r.url).query).get(k) == [v] for k, v in query.items())]
            response = asked[-1].response() if asked else None
            if response is None or not response.ok:
                seen = f"no answered request to {api_path} yet"
                return None
            answer = response.json()
            drawn = self.page.evaluate(read, chart_id)
            starts = [round(datetime.fromisoformat(b["start"]).timestamp() * 1000) for b in answer["buckets"]]
            seen = {"url": response.url, "answer starts": starts[:3], "drawn": {k: v[:3] for k, v in drawn.items()}}
            if drawn["stamps"] == starts and (match is None or match(answer, drawn["data"])):
                return {**answer, "url": response.url}
            return None

        return eventually(shows_newest, lambda: f"{chart_id} never drew its newest answer: {seen}", timeout)

    def assert_clean(self) -> None:
        """No console errors, no uncaught exceptions, no CSP violations."""
        violations = self.csp_violations()
        assert not violations, f"CSP violations: {violations}"
        assert not self.errors, "console errors:\n" + "\n".join(self.errors)


@pytest.fixture
def watched(panel, chromium, login_state):
    """A fresh desktop-sized, logged-in page; fails the test on console errors or CSP violations."""
    context = chromium.new_context(viewport=DESKTOP, storage_state=login_state,
                                   timezone_id="Europe/Berlin")
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    w = Watched(page, panel.url)
    yield w
    context.close()


def eventually(check, failure, timeout: float = 10.0, every: float = 0.2):
    """Call ``check()`` until it returns something truthy (returned); else fail with ``failure()``.

    For what the page reaches a moment after an action, and only what the test then asserts.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(failure() if callable(failure) else failure, pytrace=False)
        time.sleep(every)


def shot(page, name: str) -> Path:
    """Save a screenshot under SCREENSHOTS."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


@pytest.fixture
def new_context(chromium, login_state, panel):
    """Opens a new browser context (same login) per call, as a colleague pasting a link would;
    ``timezone_id`` None keeps the machine's zone."""
    made = []

    def open_context(timezone_id: str | None = None):
        context = chromium.new_context(viewport=DESKTOP, storage_state=login_state, timezone_id=timezone_id)
        context.add_init_script(CSP_PROBE)
        page = context.new_page()
        page.set_default_timeout(10_000)
        made.append(context)
        return Watched(page, panel.url)

    yield open_context
    for context in made:
        context.close()


def url_query(page) -> dict:
    """The page's query string as a dict of first values."""
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}

