"""Start the real panel (``python app.py``) in a subprocess on a free 127.0.0.1 port.

Used by the multi-process, Redis and browser tests: they need a real server, not the test client.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
# The gunicorn options of the production command (README.md, docs/DEPLOY.md).
PRODUCTION = ("-k", "gevent", "-w", "1", "--worker-connections", "2000")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    """A running panel; ``stop()`` ends it, ``log()`` shows what it printed."""

    url: str
    port: int
    proc: subprocess.Popen
    log_path: Path
    env: dict = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str | re.Pattern, seconds: float = 30) -> re.Match:
        """The first match of ``pattern`` in what the server printed, waiting up to ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            found = re.search(pattern, self.log())
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not printed within {seconds} s:\n{self.log()}")
            time.sleep(0.2)

    def stop(self, timeout: float = 10) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_server(tmp_path: Path, env: dict[str, str] | None = None, demo: bool = False,
                 port: int | None = None, wait: float = 60,
                 gunicorn: tuple[str, ...] | None = None) -> ServerProcess:
    """Start ``python app.py`` with ``env`` on top of a clean test environment and wait for /healthz.

    A ``None`` in ``env`` removes that variable (``{"SECRET_KEY": None}`` starts as a newcomer would).
    With ``gunicorn`` (its worker options, e.g. ``PRODUCTION``), start gunicorn with them instead.
    """
    port = port or free_port()
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("SECRET_KEY", "DATABASE_URL", "REDIS_", "ADMIN_", "INGEST_"))}
    base_env.update({
        "SECRET_KEY": "server-test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path}/server.db",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "PYTHONUNBUFFERED": "1",
    })
    for name, value in (env or {}).items():
        if value is None:
            base_env.pop(name, None)
        else:
            base_env[name] = value
    log_path = tmp_path / f"server-{port}.log"
    args = [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port)]
    if gunicorn is not None:
        args = [sys.executable, "-m", "gunicorn", *gunicorn, "-b", f"127.0.0.1:{port}",
                "--chdir", str(ROOT), "app:create_app()"]
    if demo:
        args.append("--demo")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, cwd=tmp_path, env=base_env, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(f"http://127.0.0.1:{port}", port, proc, log_path, base_env)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log()}")
        try:
            if requests.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server did not answer /healthz within {wait}s:\n{server.log()}")
