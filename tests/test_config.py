"""Configuration and the command line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

import database
from app_factory import ConfigError, create_app
from services.accounts import User

ROOT = Path(__file__).resolve().parent.parent


def test_missing_secret_key_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": None})


def test_app_py_prints_one_line_and_exits(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    proc = subprocess.run([sys.executable, str(ROOT / "app.py"), "--port", "0"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0]


@pytest.mark.sqlite_only
def test_sqlite_connection_pragmas(app):
    with database.get_engine(app).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_create_user_cli(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "carol", "--role", "viewer", "--password-stdin"],
                           input="carol-password-1\n")
    assert result.exit_code == 0, result.output
    with database.session_scope(app) as s:
        assert s.scalar(select(User.role).where(User.username == "carol")) == "viewer"
    again = runner.invoke(args=["create-user", "carol", "--password-stdin"], input="carol-password-1\n")
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=["create-user", "dave", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least" in short.output
    c = app.test_client()
    assert c.login("carol", "carol-password-1").status_code == 302


def test_set_password_cli_ends_sessions(app, admin_client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["set-password", "admin", "--password-stdin"],
                           input="another-password-9\n")
    assert result.exit_code == 0, result.output
    assert admin_client.get("/admin/dashboard").status_code == 302
    assert app.test_client().login("admin", "another-password-9").status_code == 302
