"""Application factory: configuration and ``create_app``.

Extensions (``extensions.py``) are created at import time but bound to an app only inside
``create_app`` (``init_app``), so tests can build as many apps as they like.
"""
from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import click
from dotenv import load_dotenv
from flask import Flask

from blueprints import cli, cli_db, converters
from extensions import csrf, limiter, login_manager, socketio
from services import dashboards
from services import schema  # noqa: F401  (every table on Base.metadata before the schema is upgraded)
from services.ops import migrations


class ConfigError(click.ClickException):
    """Raised when the configuration cannot start a server (printed as one line).

    A ``ClickException``, so the ``flask`` command prints it as one ``Error:`` line too.
    """


MISSING_SECRET = ("SECRET_KEY is not set: put SECRET_KEY=<random string> in the environment or .env "
                  "(python -c 'import secrets; print(secrets.token_hex(32))'), or run with --demo.")
# What --demo keeps in the instance folder so that a restart (and the CLI beside it) finds them again.
DEMO_SECRET_FILE = "demo_secret_key"
DEMO_INGEST_KEY_FILE = "demo_ingest_key"


def _env(name: str, default: Any = None, cast=str):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if cast is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    try:
        return cast(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a valid {cast.__name__}") from exc


def load_config() -> dict[str, Any]:
    """Read every setting from the environment (and `.env`), with working defaults."""
    load_dotenv(Path.cwd() / ".env", override=False)
    return {
        "SECRET_KEY": _env("SECRET_KEY"),
        "DATABASE_URL": _env("DATABASE_URL", "sqlite:///instance/dashboard.db"),
        # Upgrade the schema to this release's revision on start (off: `flask --app app db upgrade`).
        "DB_AUTO_UPGRADE": _env("DB_AUTO_UPGRADE", True, bool),
        "REDIS_URL": _env("REDIS_URL"),
        # Prefix of every Redis key and channel, so several panels can share one Redis.
        "REDIS_NAMESPACE": _env("REDIS_NAMESPACE", "adminpanel"),
        "ADMIN_USERNAME": _env("ADMIN_USERNAME"),
        "ADMIN_PASSWORD": _env("ADMIN_PASSWORD"),
        "INGEST_API_KEY": _env("INGEST_API_KEY"),
        "INGEST_RATE_LIMIT": _env("INGEST_RATE_LIMIT", "600 per minute"),
        "LIVE_UPDATE_INTERVAL": _env("LIVE_UPDATE_INTERVAL", 5.0, float),
        "SAMPLE_INTERVAL": _env("SAMPLE_INTERVAL", 5.0, float),
        # live_update: request figures over this many recent minutes; users active this recently.
        "LIVE_REQUEST_WINDOW_MINUTES": _env("LIVE_REQUEST_WINDOW_MINUTES", 5, int),
        "ACTIVE_USER_MINUTES": _env("ACTIVE_USER_MINUTES", 5, int),
        "EXPORT_LINK_TTL": _env("EXPORT_LINK_TTL", 3600, int),
        "METRICS_TOKEN": _env("METRICS_TOKEN"),
        # /metrics: seconds a newly met series is shown at zero before its counts (>= scrape interval).
        "METRICS_NEW_SERIES_HOLD": _env("METRICS_NEW_SERIES_HOLD", 60.0, float),
        "METRICS_EXPOSE_MAX_SERIES": _env("METRICS_EXPOSE_MAX_SERIES", 10_000, int),
        "SESSION_IDLE_MINUTES": _env("SESSION_IDLE_MINUTES", 120, int),
        "SESSION_ABSOLUTE_HOURS": _env("SESSION_ABSOLUTE_HOURS", 12, int),
        "LOGIN_RATE_LIMIT_IP": _env("LOGIN_RATE_LIMIT_IP", "20 per minute; 100 per hour"),
        "LOGIN_RATE_LIMIT_ACCOUNT": _env("LOGIN_RATE_LIMIT_ACCOUNT", "5 per 15 minutes"),
        # Refused API tokens per client address before its bearer requests get 429.
        "API_TOKEN_FAIL_LIMIT": _env("API_TOKEN_FAIL_LIMIT", "10 per minute; 50 per hour"),
        "PASSWORD_HASH_METHOD": _env("PASSWORD_HASH_METHOD", "scrypt"),
        "SCHEDULER_ENABLED": _env("SCHEDULER_ENABLED", True, bool),
        "ALLOWED_ORIGINS": _env("ALLOWED_ORIGINS"),
        # How sockets are served: "gevent" (one greenlet per socket; what production runs) or
        # "threading" (a thread per socket; development and tests). Unset: gevent when the
        # process was started under gevent (gunicorn -k gevent), else threading.
        "SOCKETIO_ASYNC_MODE": _env("SOCKETIO_ASYNC_MODE"),
        # Open sockets per user and process; one more is told "too_many_sockets" and closed.
        "SOCKETS_PER_USER": _env("SOCKETS_PER_USER", 20, int),
        "PROXY_FIX": _env("PROXY_FIX", 0, int),
        "MAX_CONTENT_LENGTH": _env("MAX_CONTENT_LENGTH", 2 * 1024 * 1024, int),
        # Days of history --demo fills an empty database with.
        "DEMO_BACKFILL_DAYS": _env("DEMO_BACKFILL_DAYS", 30.0, float),
        # A product is low on stock at or below its own threshold, else this one.
        "LOW_STOCK_THRESHOLD": _env("LOW_STOCK_THRESHOLD", 5, int),
        "DEMO_FIRST_OUTAGE_SECONDS": _env("DEMO_FIRST_OUTAGE_SECONDS", 60.0, float),
        # Alert notifications: a webhook (Slack-compatible JSON) and/or e-mail through SMTP.
        "ALERT_WEBHOOK_URL": _env("ALERT_WEBHOOK_URL"),
        "ALERT_WEBHOOK_TIMEOUT": _env("ALERT_WEBHOOK_TIMEOUT", 5.0, float),
        "SMTP_HOST": _env("SMTP_HOST"),
        "SMTP_PORT": _env("SMTP_PORT", 587, int),
        "SMTP_USER": _env("SMTP_USER"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_FROM": _env("SMTP_FROM", "alerts@localhost"),
        "SMTP_TO": _env("SMTP_TO"),
        "SMTP_STARTTLS": _env("SMTP_STARTTLS", True, bool),
        "SMTP_TIMEOUT": _env("SMTP_TIMEOUT", 10.0, float),
        # Failed notifications are retried after BACKOFF * 2**(attempt-1) s (capped), MAX_ATTEMPTS in all.
        "ALERT_NOTIFY_MAX_ATTEMPTS": _env("ALERT_NOTIFY_MAX_ATTEMPTS", 5, int),
        "ALERT_NOTIFY_BACKOFF_SECONDS": _env("ALERT_NOTIFY_BACKOFF_SECONDS", 2.0, float),
        "ALERT_NOTIFY_BACKOFF_MAX": _env("ALERT_NOTIFY_BACKOFF_MAX", 300.0, float),
        # The default notification policy's timings, in seconds (0: send at once, no reminders).
        "ALERT_GROUP_WAIT": _env("ALERT_GROUP_WAIT", 0, int),
        "ALERT_GROUP_INTERVAL": _env("ALERT_GROUP_INTERVAL", 0, int),
        "ALERT_REPEAT_INTERVAL": _env("ALERT_REPEAT_INTERVAL", 0, int),
        # A maintenance window muting longer than this (or with no end) needs "confirm": true.
        "MAINTENANCE_CONFIRM_HOURS": _env("MAINTENANCE_CONFIRM_HOURS", 24.0, float),
        # The monitor's own cost: a scheduler tick may use this share of its interval before the
        # interval is widened (at most TICK_MAX_WIDEN times); one request in
        # TIMER_COST_SAMPLE_EVERY has the request timer's own cost measured.
        "TICK_BUDGET_SHARE": _env("TICK_BUDGET_SHARE", 0.5, float),
        "TICK_MAX_WIDEN": _env("TICK_MAX_WIDEN", 8.0, float),
        "TIMER_COST_SAMPLE_EVERY": _env("TIMER_COST_SAMPLE_EVERY", 100, int),
        # The panel's own logging into log_entries (unset: on, except under TESTING).
        "LOG_CAPTURE": _env("LOG_CAPTURE", None, bool),
        "LOG_CAPTURE_LEVEL": _env("LOG_CAPTURE_LEVEL", "INFO"),
        "LOG_SERVICE_NAME": _env("LOG_SERVICE_NAME", "admin-panel"),
        "LOG_QUEUE_SIZE": _env("LOG_QUEUE_SIZE", 10000, int),
        # While the database is down the log writer retries after 0.5 s, doubling up to this.
        "LOG_RETRY_MAX": _env("LOG_RETRY_MAX", 30.0, float),
        # Days kept per table by `flask --app app prune` and the daily prune; 0 keeps forever.
        "RETENTION_DAYS_METRICS": _env("RETENTION_DAYS_METRICS", 30, int),
        "RETENTION_DAYS_REQUEST_STATS": _env("RETENTION_DAYS_REQUEST_STATS", 30, int),
        "RETENTION_DAYS_LOGS": _env("RETENTION_DAYS_LOGS", 14, int),
        "RETENTION_DAYS_ACTIVITY": _env("RETENTION_DAYS_ACTIVITY", 90, int),
        "RETENTION_DAYS_AUDIT": _env("RETENTION_DAYS_AUDIT", 365, int),
        # Service monitors: raw results for 3 days, then per-minute/hour/day rollups.
        "RETENTION_DAYS_MONITOR_RESULTS": _env("RETENTION_DAYS_MONITOR_RESULTS", 3, int),
        "RETENTION_DAYS_MONITOR_MINUTES": _env("RETENTION_DAYS_MONITOR_MINUTES", 1, int),
        "RETENTION_DAYS_MONITOR_HOURS": _env("RETENTION_DAYS_MONITOR_HOURS", 90, int),
        "RETENTION_DAYS_MONITOR_DAYS": _env("RETENTION_DAYS_MONITOR_DAYS", 400, int),
        "RETENTION_BATCH_SIZE": _env("RETENTION_BATCH_SIZE", 5000, int),
        # Pushed metrics: label sets per name, how far back/ahead a point's time may be, and how
        # long raw points (hours), per-minute and per-hour rollups (days) are kept (0: forever).
        "METRIC_MAX_SERIES": _env("METRIC_MAX_SERIES", 200, int),
        "METRIC_MAX_AGE_SECONDS": _env("METRIC_MAX_AGE_SECONDS", 3600, int),
        "METRIC_MAX_FUTURE_SECONDS": _env("METRIC_MAX_FUTURE_SECONDS", 600, int),
        "METRICS_RETENTION_RAW_HOURS": _env("METRICS_RETENTION_RAW_HOURS", 48, int),
        "METRICS_RETENTION_MINUTE_DAYS": _env("METRICS_RETENTION_MINUTE_DAYS", 30, int),
        "METRICS_RETENTION_HOUR_DAYS": _env("METRICS_RETENTION_HOUR_DAYS", 400, int),
        # Cache namespaces: seconds an entry lives and how many entries each keeps.
        "CACHE_TTL_LIVE": _env("CACHE_TTL_LIVE", 30.0, float),
        "CACHE_TTL_ANALYTICS": _env("CACHE_TTL_ANALYTICS", 300.0, float),
        "CACHE_TTL_ACTIVITY": _env("CACHE_TTL_ACTIVITY", 120.0, float),
        "CACHE_TTL_HEALTH": _env("CACHE_TTL_HEALTH", 30.0, float),
        "CACHE_TTL_HISTORY": _env("CACHE_TTL_HISTORY", 600.0, float),
        "CACHE_SIZE_LIVE": _env("CACHE_SIZE_LIVE", 64, int),
        "CACHE_SIZE_ANALYTICS": _env("CACHE_SIZE_ANALYTICS", 512, int),
        "CACHE_SIZE_ACTIVITY": _env("CACHE_SIZE_ACTIVITY", 256, int),
        "CACHE_SIZE_HEALTH": _env("CACHE_SIZE_HEALTH", 16, int),
        "CACHE_SIZE_HISTORY": _env("CACHE_SIZE_HISTORY", 64, int),
        # Bytes (of JSON) of last answers kept for reads that are never cached, for outages.
        "CACHE_FALLBACK_BYTES": _env("CACHE_FALLBACK_BYTES", 8 * 1024 * 1024, int),
        # Database circuit breaker: open after this many failures in a row, retry after N seconds.
        "DB_BREAKER_FAIL_MAX": _env("DB_BREAKER_FAIL_MAX", 3, int),
        "DB_BREAKER_RESET_TIMEOUT": _env("DB_BREAKER_RESET_TIMEOUT", 15.0, float),
        # Health thresholds (percent used; seconds; milliseconds).
        "HEALTH_DISK_WARN_PERCENT": _env("HEALTH_DISK_WARN_PERCENT", 85.0, float),
        "HEALTH_DISK_CRIT_PERCENT": _env("HEALTH_DISK_CRIT_PERCENT", 95.0, float),
        "HEALTH_MEMORY_WARN_PERCENT": _env("HEALTH_MEMORY_WARN_PERCENT", 90.0, float),
        "HEALTH_MEMORY_CRIT_PERCENT": _env("HEALTH_MEMORY_CRIT_PERCENT", 97.0, float),
        "HEALTH_DB_SLOW_MS": _env("HEALTH_DB_SLOW_MS", 500.0, float),
        "HEALTH_SCHEDULER_STALE_SECONDS": _env("HEALTH_SCHEDULER_STALE_SECONDS", 60.0, float),
        # Service monitors (services.checks): checked by the leader process in a worker pool.
        "MONITORS_ENABLED": _env("MONITORS_ENABLED", True, bool),
        "MONITOR_WORKERS": _env("MONITOR_WORKERS", 8, int),
        "MONITOR_LOOP_SECONDS": _env("MONITOR_LOOP_SECONDS", 1.0, float),
        "MONITOR_RELOAD_SECONDS": _env("MONITOR_RELOAD_SECONDS", 5.0, float),
        # Shortest interval a monitor may have (seconds); tests lower it.
        "MONITOR_MIN_INTERVAL": _env("MONITOR_MIN_INTERVAL", 10, int),
        # http/tcp checks of loopback and private addresses (link-local/metadata: never).
        "MONITOR_ALLOW_PRIVATE": _env("MONITOR_ALLOW_PRIVATE", False, bool),
        "MONITOR_BODY_LIMIT": _env("MONITOR_BODY_LIMIT", 1024 * 1024, int),
        "HEARTBEAT_RATE_LIMIT": _env("HEARTBEAT_RATE_LIMIT", "120 per minute"),
        "HEARTBEAT_RATE_LIMIT_IP": _env("HEARTBEAT_RATE_LIMIT_IP", "1200 per minute"),
        # While the database is down, sessions verified this recently stay signed in (0: off).
        "DEGRADED_LOGIN_SECONDS": _env("DEGRADED_LOGIN_SECONDS", 900.0, float),
        **dashboards.load_config(_env),
    }


def _finalise(app: Flask) -> None:
    """Derive Flask's own settings from ours and refuse to start without a secret."""
    cfg = app.config
    if not cfg.get("SECRET_KEY"):
        if cfg.get("DEMO"):
            cfg["SECRET_KEY"] = _instance_value(app, DEMO_SECRET_FILE, lambda: secrets.token_hex(32))
        elif cfg.get("TESTING"):
            cfg["SECRET_KEY"] = secrets.token_hex(32)
        else:
            cfg["SECRET_KEY"] = _cli_secret(app)
    if cfg.get("DEMO") and not cfg.get("INGEST_API_KEY"):
        # The README's ingest curl must work beside the demo; the key survives restarts.
        cfg["INGEST_API_KEY"] = _instance_value(app, DEMO_INGEST_KEY_FILE, lambda: secrets.token_urlsafe(24))
        cfg["DEMO_INGEST_KEY_FILE"] = str(Path(app.instance_path) / DEMO_INGEST_KEY_FILE)
    cfg["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=cfg["SESSION_IDLE_MINUTES"])
    cfg["SESSION_REFRESH_EACH_REQUEST"] = True
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    cfg["SESSION_COOKIE_NAME"] = "admin_session"
    # A token valid as long as the session: a dashboard left open all day must still post.
    cfg["WTF_CSRF_TIME_LIMIT"] = None
    cfg["WTF_CSRF_SSL_STRICT"] = True
    cfg["RATELIMIT_STORAGE_URI"] = cfg.get("RATELIMIT_STORAGE_URI") or cfg["REDIS_URL"] or "memory://"
    cfg["RATELIMIT_HEADERS_ENABLED"] = True
    cfg["RATELIMIT_KEY_PREFIX"] = cfg["REDIS_NAMESPACE"]
    # Redis down must not turn rate-limited routes (login, ingest) into 500s: limits fall back to
    # this process's memory until the shared storage answers again.
    cfg.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    cfg.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    cfg["REMEMBER_COOKIE_DURATION"] = timedelta(seconds=0)


def _instance_value(app: Flask, name: str, make: Callable[[], str]) -> str:
    """A random value --demo keeps in the instance folder, so restarts do not log everyone out."""
    path = Path(app.instance_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _cli_secret(app: Flask) -> str:
    """The secret of an app loaded by the ``flask`` command without SECRET_KEY.

    Beside a demo, the demo's own secret: the commands then act on the demo's database. Elsewhere
    a throwaway one, so ``flask --help`` still lists the commands, and the commands refuse with one
    line (``SECRET_KEY_MISSING``). A server never gets here: it refuses to start.
    """
    command = cli.loading_command()
    if command is None or command == "run":
        raise ConfigError(MISSING_SECRET)
    demo_secret = Path(app.instance_path) / DEMO_SECRET_FILE
    if demo_secret.exists():
        return demo_secret.read_text().strip()
    app.config["SECRET_KEY_MISSING"] = True
    return secrets.token_hex(32)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the panel: config from env, then one ``init_app`` per subsystem."""
    # The instance folder sits in the working directory, beside the default SQLite database, so the
    # demo's database, secret and ingest key stay together wherever the panel is started from.
    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"), instance_relative_config=True)
    app.url_map.converters["int"] = converters.DatabaseIdConverter
    app.config.update(load_config())
    app.config.update(overrides or {})
    _finalise(app)

    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    import database
    from blueprints import register_blueprints, security
    from services import alerts, checks, live
    from services.infra import breaker, cache
    from services.ingest import derived
    from services.live import sockets as live_sockets
    from services.logs import query as logs_query
    from services.logs import relay as logs_relay
    from services.monitor import performance_monitor, self_cost
    from services.ops import retention
    from services.prometheus import exposition as prometheus_exposition

    database.init_app(app)
    if not _init_schema(app):
        return app
    derived.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    self_cost.init_app(app)
    # The request timer wraps Flask's WSGI app before Socket.IO wraps both: the transport's
    # long-lived connections are answered outside the timer and never counted as requests, and
    # the timer sees the environ Flask sees (Socket.IO's layer passes a copy inwards).
    performance_monitor.init_app(app)
    _init_socketio(app)
    live_sockets.init_app(app)
    security.init_app(app)
    cache.init_app(app)
    breaker.init_app(app)
    register_blueprints(app)
    logs_query.init_app(app)
    logs_relay.init_app(app)
    retention.init_app(app)
    live.init_app(app)
    alerts.init_app(app)
    checks.init_app(app)
    dashboards.init_app(app)
    prometheus_exposition.init_app(app)
    _bootstrap_accounts(app)
    return app


def _init_schema(app: Flask) -> bool:
    """Bring the schema to head before anything reads a table, or refuse to start in one line.

    Under the ``flask`` commands a database that is behind (DB_AUTO_UPGRADE off), or settings
    without SECRET_KEY, get an app with its commands only, nothing that reads a table: ``db
    upgrade`` and ``--help`` work, the other commands refuse in one line. Returns whether the
    app is complete.
    """
    if cli.loading_command() is not None and cli.command_group() == "db":
        # The schema commands act on the schema themselves, under its lock: no upgrade first (a
        # downgrade must last), and nothing that reads a table (a model may already have a column
        # that only the revision being written will add).
        cli_db.init_app(app)
        return False
    if not app.config.get("SECRET_KEY_MISSING"):  # else the default database may be the wrong one
        try:
            migrations.init_app(app, refuse_when_behind=cli.loading_command() in (None, "run"))
        except migrations.SchemaError as exc:
            raise ConfigError(exc.message) from exc
    if app.config.get("SECRET_KEY_MISSING") or migrations.is_behind(app):
        cli.init_app(app)
        cli_db.init_app(app)
        return False
    return True


def async_mode(configured: str | None) -> str:
    """The Socket.IO serving model: ``configured``, else what the process was started under.

    Always explicit: Flask-SocketIO would pick gevent by itself whenever it is installed, even in
    a threaded server, where every socket would then hang.
    """
    patched = _gevent_patched()
    mode = (configured or "").strip().lower() or ("gevent" if patched else "threading")
    if mode not in ("gevent", "threading"):
        raise ConfigError(f"SOCKETIO_ASYNC_MODE={configured!r}: use gevent or threading")
    if mode == "gevent" and not patched:
        raise ConfigError("SOCKETIO_ASYNC_MODE=gevent needs a gevent server: run "
                          "gunicorn -k gevent (docs/DEPLOY.md) or python app.py with it set")
    if mode == "threading" and patched:
        raise ConfigError("SOCKETIO_ASYNC_MODE=threading under a gevent server: unset it")
    return mode


def _gevent_patched() -> bool:
    if "gevent" not in sys.modules:  # never import gevent just to ask
        return False
    from gevent import monkey

    return bool(monkey.is_module_patched("socket"))


def _init_socketio(app: Flask) -> None:
    """Bind Socket.IO: the serving model, Redis as message queue when configured, same origin only."""
    origins = app.config["ALLOWED_ORIGINS"]
    app.config["SOCKETIO_ASYNC_MODE"] = async_mode(app.config["SOCKETIO_ASYNC_MODE"])
    # The singleton remembers the last app's Redis queue; each app must get only its own.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["REDIS_URL"],
        channel=f'{app.config["REDIS_NAMESPACE"]}-socketio',
        # None means same-origin only; never "*".
        cors_allowed_origins=[o.strip() for o in origins.split(",")] if origins else None,
        manage_session=False,
    )


def _bootstrap_accounts(app: Flask) -> None:
    """The first admin comes from ADMIN_*; a demo without them gets ``demo`` and a random password.

    The password waits on the app until the demo's banner shows it, once the server answers.
    """
    import database
    from services.accounts import users
    from services.demo import console as demo_console
    from services.demo import mode as demo

    method = app.config["PASSWORD_HASH_METHOD"]
    with database.session_scope(app) as session:
        users.ensure_bootstrap_admin(session, app.config["ADMIN_USERNAME"],
                                     app.config["ADMIN_PASSWORD"], method)
        password = demo.ensure_demo_admin(session, method) if app.config.get("DEMO") else None
    if password:
        app.extensions[demo_console.PASSWORD_KEY] = password
