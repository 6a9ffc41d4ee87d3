"""Shared fixtures: an app with a fresh database per test, on SQLite and on PostgreSQL.

Every test that uses ``app`` runs once per backend. The PostgreSQL run uses
``TEST_DATABASE_URL`` (default: the local ``test`` database) in a schema of its
own, so parallel runs do not meet; it is skipped with a reason when PostgreSQL
is not reachable, and fails instead when ``CI=true``.
"""
from __future__ import annotations

import os
import re
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

import database
from app_factory import create_app, socketio
from services.ops import migrations
from tests.helpers import ADMIN, INGEST_KEY, VIEWER

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: run only against SQLite")
    config.addinivalue_line("markers", "browser: drives a real Chromium")


def pytest_collection_modifyitems(config, items):
    for item in list(items):
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("db_url") == "postgresql" and item.get_closest_marker("sqlite_only"):
            items.remove(item)


def unreachable(what: str, reason: str):
    """Skip locally, fail in CI: CI must really run against the service."""
    message = f"{what} not reachable ({reason})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL URL whose search_path is a schema private to this test run."""
    base = os.environ.get("TEST_DATABASE_URL", PG_DEFAULT)
    try:
        engine = create_engine(base)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not here"
        unreachable(f"PostgreSQL at {base}", type(exc).__name__)
    schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    scoped = create_engine(url)
    migrations.upgrade_to_head(scoped)  # the schema as the revisions build it, as in production
    yield url, scoped
    scoped.dispose()
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def redis_url():
    """The local Redis (``TEST_REDIS_URL``); skipped locally when absent, a failure in CI."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        unreachable(f"Redis at {url}", type(exc).__name__)
    return url


@pytest.fixture
def redis_namespace():
    """A Redis key/channel prefix private to one test, so parallel runs never meet."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A database URL with empty tables: a new SQLite file, or a truncated PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/panel.db"
    url, engine = request.getfixturevalue("pg_url")
    names = ", ".join(f'"{t.name}"' for t in database.Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return url


class PanelClient(FlaskClient):
    """A test client that logs in through the form and sends the CSRF token like a page does."""

    csrf: str | None = None

    def fetch_csrf(self, path: str = "/admin/login") -> str:
        html = self.get(path, follow_redirects=True).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', html)
        assert match, f"no csrf-token meta tag on {path}"
        self.csrf = match.group(1)
        return self.csrf

    def login(self, username: str, password: str, follow: bool = False):
        token = self.fetch_csrf()
        return self.post("/admin/login", data={"username": username, "password": password,
                                               "csrf_token": token}, follow_redirects=follow)

    def api(self, method: str, path: str, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.csrf and method.upper() not in ("GET", "HEAD"):
            headers.setdefault("X-CSRFToken", self.csrf)
        return self.open(path, method=method.upper(), headers=headers, **kwargs)


BASE_OVERRIDES = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "SCHEDULER_ENABLED": False,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing keeps the suite quick
    "REDIS_URL": None,
    "ADMIN_USERNAME": ADMIN[0],
    "ADMIN_PASSWORD": ADMIN[1],
    "INGEST_API_KEY": INGEST_KEY,
    "METRICS_TOKEN": None,
    "DEMO": False,
}


@pytest.fixture
def make_app(db_url):
    """Build an app on this test's database; keyword overrides win over the defaults."""
    built = []

    def factory(**overrides):
        app = create_app({**BASE_OVERRIDES, "DATABASE_URL": db_url, **overrides})
        app.test_client_class = PanelClient
        built.append(app)
        return app

    yield factory
    for app in built:
        database.get_engine(app).dispose()


@pytest.fixture
def app(make_app):
    """The panel with a fresh database, the admin bootstrapped and a viewer created."""
    application = make_app()
    from services.accounts import users

    with database.session_scope(application) as session:
        users.create_user(session, VIEWER[0], VIEWER[1], "viewer", "pbkdf2:sha256:1000")
    return application


@pytest.fixture
def client(app) -> PanelClient:
    """An anonymous client."""
    return app.test_client()


@pytest.fixture
def admin_client(app) -> PanelClient:
    """A client logged in as the bootstrap admin, CSRF token at hand."""
    c = app.test_client()
    assert c.login(*ADMIN).status_code == 302
    c.fetch_csrf("/admin/dashboard")
    return c


@pytest.fixture
def viewer_client(app) -> PanelClient:
    """A client logged in as a viewer."""
    c = app.test_client()
    assert c.login(*VIEWER).status_code == 302
    c.fetch_csrf("/admin/dashboard")
    return c


@pytest.fixture
def socket_client(app, admin_client):
    """A Socket.IO test client sharing the admin's session cookie."""
    sc = socketio.test_client(app, flask_test_client=admin_client)
    yield sc
    if sc.is_connected():
        sc.disconnect()
