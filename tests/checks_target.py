"""A real HTTP target on 127.0.0.1 for monitor tests: its answer can be changed, and it can stop.

Also the fixtures the monitor tests share (import them into the test module to use them).
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Target:
    """Serves ``status``/``body``/``delay`` (changeable at any time) until ``stop()``."""

    def __init__(self):
        self.status, self.body, self.delay = 200, b'{"status": "ok", "db": {"ok": true}}', 0.0
        self.headers: dict[str, str] = {"Content-Type": "application/json"}
        self.hits = 0
        target = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                target.hits += 1
                if target.delay:
                    time.sleep(target.delay)
                self.send_response(target.status)
                for k, v in target.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(target.body)))
                self.end_headers()
                self.wfile.write(target.body)

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def target():
    """A Target for one test, stopped after it."""
    t = Target()
    yield t
    t.stop()


@pytest.fixture
def app(make_app):
    """The panel allowed to check 127.0.0.1 (the targets are local) every second."""
    return make_app(MONITOR_ALLOW_PRIVATE=True, MONITOR_MIN_INTERVAL=1)
