"""``python app.py --demo`` as a newcomer starts it: a clean console, a banner, a working ingest curl.

The README promises that beside the demo its ingest ``curl`` works and ``flask --app app
create-user`` acts on the demo's database; these tests run exactly that, as real processes.
"""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

import database
from services.accounts import AuditLog
from services.ingest import Transaction
from services.demo import mode as demo
from services.demo import console as demo_console
from tests.servers import ROOT, free_port, start_server

# What the demo prints once it serves (services/demo/console.py).
BANNER = re.compile(r"={20,}\nDemo ready: (?P<url>\S+)/admin/login\n(?P<body>.*?)\n={20,}", re.DOTALL)
# As a newcomer: no SECRET_KEY, no DATABASE_URL (the default instance/dashboard.db), no ingest key.
NEWCOMER = {"SECRET_KEY": None, "DATABASE_URL": None, "DEMO_BACKFILL_DAYS": "0.2"}


def readme_ingest_curl() -> str:
    """The ``curl`` of the README's Ingest API section, exactly as a reader would paste it."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"```bash\n(curl [^`]*?/api/v1/events.*?)\n# 202", readme, re.DOTALL)
    assert match, "README.md lost its ingest curl example"
    return match.group(1)


def wait_for_monitor_login(db_path: Path, seconds: float = 30) -> None:
    engine = database.make_engine(f"sqlite:///{db_path}")
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.scalar(select(func.count()).select_from(AuditLog).where(
                        AuditLog.actor == demo.MONITOR_USERNAME, AuditLog.outcome == "success")):
                    return
            time.sleep(0.3)
        raise AssertionError("the demo monitor never logged in")
    finally:
        engine.dispose()


def login_status(url: str, username: str, password: str) -> int:
    import requests

    http = requests.Session()
    token = re.search(r'name="csrf-token" content="([^"]+)"', http.get(f"{url}/admin/login").text).group(1)
    return http.post(f"{url}/admin/login", allow_redirects=False, data={
        "username": username, "password": password, "csrf_token": token}).status_code


def flask_cli(cwd: Path, env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", str(ROOT / "app.py"), *args],
                          cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=60)


def test_demo_start_shows_a_banner_the_readme_curl_and_the_cli_work_with(tmp_path):
    server = start_server(tmp_path, env=NEWCOMER, demo=True)
    try:
        banner = server.wait_for_log(BANNER)
        body = banner["body"]
        assert banner["url"] == server.url
        password = re.search(r"log in as\s+demo / (\S+)\s+\(shown on this first start only\)", body).group(1)
        key = re.search(r"export INGEST_API_KEY=(\S+)", body).group(1)
        assert key == (tmp_path / "instance" / "demo_ingest_key").read_text().strip()
        assert login_status(server.url, "demo", password) == 302

        # The README's curl, pasted after the banner's export line: 202 and the transaction is stored.
        curl = readme_ingest_curl().replace("http://127.0.0.1:5000", server.url)
        assert server.url in curl
        proc = subprocess.run(["bash", "-c", curl + " -w '\\n%{http_code}'"], capture_output=True,
                              text=True, timeout=30, env={**os.environ, "INGEST_API_KEY": key})
        answer, status = proc.stdout.rsplit("\n", 1)
        assert status == "202", proc.stdout + proc.stderr
        assert json.loads(answer)["accepted"] == {"transactions": 1, "activities": 1, "logs": 1}

        # Beside the demo, without SECRET_KEY: the CLI acts on the demo's database.
        cli = flask_cli(tmp_path, server.env, "create-user", "alice", "--role", "admin", "--password-stdin",
                        stdin="alice-password-1\n")
        assert cli.returncode == 0, cli.stdout + cli.stderr
        assert "Traceback" not in cli.stderr
        assert login_status(server.url, "alice", "alice-password-1") == 302

        wait_for_monitor_login(tmp_path / "instance" / "dashboard.db")
        engine = database.make_engine(f"sqlite:///{tmp_path}/instance/dashboard.db")
        try:
            with engine.connect() as conn:
                assert conn.scalar(select(Transaction.status).where(Transaction.id == "ord_1001")) == "pending"
        finally:
            engine.dispose()
        out = server.log()
        assert "Traceback" not in out
        assert "Error" not in out.replace("ERROR services.demo.traffic", "")
        # The banner comes after the web server's start-up lines, and no request line follows it
        # although the monitor, the curl and both logins made requests.
        assert out.index(" * Debug mode") < banner.start()
        assert not re.search(r'"(GET|POST) /', out), out
    finally:
        server.stop()
    assert "Traceback" not in server.log()

    # A restart keeps the ingest key; the password is not shown again (and says how to get a new one).
    again = start_server(tmp_path, env=NEWCOMER, demo=True, port=free_port())
    try:
        body = again.wait_for_log(BANNER)["body"]
        assert f"export INGEST_API_KEY={key}" in body
        assert password not in again.log() and "set-password demo" in body
        assert login_status(again.url, "demo", password) == 302
        assert "Traceback" not in again.log()
    finally:
        again.stop()


def test_cli_outside_a_demo_without_secret_key_refuses_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECRET_KEY", "DATABASE_URL", "ADMIN_", "INGEST_", "REDIS_"))}
    helped = flask_cli(tmp_path, env, "--help")
    assert helped.returncode == 0 and "Traceback" not in helped.stderr, helped.stderr
    listed = helped.stdout.split("Commands:", 1)[1]
    for command in ("create-user", "set-password", "rebuild-rollups", "prune", "routes"):
        assert re.search(rf"^\s+{command}\s", listed, re.MULTILINE), helped.stdout
    for args, stdin in ((("create-user", "bob", "--password-stdin"), "bob-password-1\n"),
                        (("set-password", "bob", "--password-stdin"), "bob-password-1\n"),
                        (("prune",), ""), (("rebuild-rollups",), ""), (("run", "--port", "0"), "")):
        refused = flask_cli(tmp_path, env, *args, stdin=stdin)
        assert refused.returncode != 0, (args, refused.stdout)
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "SECRET_KEY" in lines[0], (args, refused.stderr)


def test_demo_ingest_key_is_random_persisted_and_yields_to_the_setting(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the instance folder follows the working directory
    first = make_app(DEMO=True, INGEST_API_KEY=None)
    key = first.config["INGEST_API_KEY"]
    path = tmp_path / "instance" / "demo_ingest_key"
    assert len(key) >= 32 and path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert make_app(DEMO=True, INGEST_API_KEY=None).config["INGEST_API_KEY"] == key  # a restart keeps it
    resp = first.test_client().post("/api/v1/events", headers={"Authorization": f"Bearer {key}"}, json={
        "logs": [{"service": "web", "level": "INFO", "message": "hello"}]})
    assert resp.status_code == 202, resp.get_json()
    mine = make_app(DEMO=True, INGEST_API_KEY="my-own-key")
    assert mine.config["INGEST_API_KEY"] == "my-own-key" and "DEMO_INGEST_KEY_FILE" not in mine.config
    assert "the INGEST_API_KEY you set" in demo_console.banner(mine, "http://x", None)
    assert make_app(DEMO=False, INGEST_API_KEY=None).config["INGEST_API_KEY"] is None  # only the demo


def test_the_new_demo_password_is_shown_once(make_app, capsys):
    app = make_app(DEMO=True, ADMIN_USERNAME=None, ADMIN_PASSWORD=None)
    assert capsys.readouterr().out == ""  # not before the server's start-up lines
    assert demo_console.announce(app, "http://127.0.0.1:5000")
    out = capsys.readouterr().out
    password = re.search(r"log in as\s+demo / (\S+)", out).group(1)
    from services.accounts import users
    with database.session_scope(app) as s:
        assert users.authenticate(s, "demo", password).role == "admin"
    assert not demo_console.announce(app, "http://127.0.0.1:5000")  # once per start
    again = make_app(DEMO=True, ADMIN_USERNAME=None, ADMIN_PASSWORD=None)
    demo_console.announce(again, "http://127.0.0.1:5000")
    out = capsys.readouterr().out
    assert password not in out and "password shown on the first start" in out


def test_waiting_for_the_server_is_silent_until_it_answers(caplog, capsys):
    from flask import Flask
    from werkzeug.serving import make_server

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tiny = Flask("tiny")
    tiny.add_url_rule("/healthz", "healthz", lambda: "ok")
    server = make_server("127.0.0.1", port, tiny)
    starter = threading.Timer(1.0, server.serve_forever)  # refused for a second, then answering
    starter.start()
    try:
        assert demo_console.wait_until_serving(url, threading.Event(), timeout=20)
    finally:
        server.shutdown()
        starter.join()
    stop = threading.Event()
    stop.set()
    assert not demo_console.wait_until_serving(url, stop, timeout=20)  # stopped: gives up at once
    assert "Traceback" not in capsys.readouterr().err
    assert not [r for r in caplog.records if r.name != "werkzeug"]  # werkzeug: the tiny server's own
