"""Run one check of any kind: ``run_check(spec, context)`` → ``Outcome``.

A check never touches the monitors' tables: it gets a plain spec (the monitor's settings) and
returns what it saw, so the runner can run many at once in worker threads and write the
results in one place. Only the ``database`` kind uses the panel's engine (to measure it).
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.checks.http_check import CheckFailed, check_http, vet_host


@dataclass
class Outcome:
    """What one check saw: ``ok``, the response time (None when none was measured), the error
    users see, and figures of the kind (status code, pool use, connections...)."""

    ok: bool
    latency_ms: float | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckContext:
    """What a check may need from the app: its settings, engine and the clock."""

    settings: dict
    engine: Engine | None = None
    now: datetime | None = None


def run_check(spec: dict, ctx: CheckContext) -> Outcome:
    """Run the check ``spec`` describes; any failure becomes a down Outcome, never an exception."""
    kind, cfg, timeout = spec["kind"], spec.get("config") or {}, float(spec["timeout_seconds"])
    try:
        if kind == "http":
            figures = check_http(cfg, timeout, ctx.settings)
        elif kind == "tcp":
            figures = check_tcp(cfg, timeout, ctx.settings)
        elif kind == "push":
            figures = check_push(spec, cfg, ctx.now)
        elif kind == "database":
            figures = check_database(ctx.engine, cfg)
        elif kind == "redis":
            figures = check_redis(cfg, timeout, ctx.settings)
        else:
            raise CheckFailed(f"unknown kind {kind}")
    except CheckFailed as exc:
        detail = dict(exc.figures)
        return Outcome(False, detail.pop("latency_ms", None), str(exc)[:500], detail)
    except Exception as exc:  # a bug or an odd library error must not stop the runner
        return Outcome(False, None, f"{type(exc).__name__}: {str(exc)[:300]}")
    latency = figures.pop("latency_ms", None)
    return Outcome(True, latency, None, figures)


def _slow(figures: dict, cfg: dict) -> None:
    limit = cfg.get("max_response_ms")
    if limit and figures.get("latency_ms") is not None and figures["latency_ms"] > limit:
        raise CheckFailed(f"slow: {figures['latency_ms']:.0f} ms > {limit:g} ms", figures)


def check_tcp(cfg: dict, timeout: float, settings: dict) -> dict:
    """Open (and close) a TCP connection to host:port."""
    host, port = cfg["host"], int(cfg["port"])
    vet_host(host, port, bool(settings.get("MONITOR_ALLOW_PRIVATE")))
    began = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except socket.timeout:
        raise CheckFailed(f"connect to {host}:{port} timed out after {timeout:g} s") from None
    except OSError as exc:
        raise CheckFailed(f"connect to {host}:{port} failed: {exc.strerror or exc}") from None
    figures = {"latency_ms": (time.perf_counter() - began) * 1000}
    _slow(figures, cfg)
    return figures


def check_push(spec: dict, cfg: dict, now: datetime | None) -> dict:
    """Up while the last heartbeat is younger than the interval plus the grace and said "up"."""
    last = spec.get("last_push_at")
    window = timedelta(seconds=int(spec["interval_seconds"]) + int(cfg.get("grace_seconds") or 0))
    if last is None:
        raise CheckFailed("no heartbeat received yet")
    age = (now - last).total_seconds()
    if now - last > window:
        raise CheckFailed(f"no heartbeat for {age:.0f} s (expected within {window.total_seconds():.0f} s)")
    if spec.get("last_push_status") == "down":
        raise CheckFailed("heartbeat reported down" + (f": {spec['last_push_message']}"
                                                        if spec.get("last_push_message") else ""))
    return {"heartbeat_age_s": round(age, 1)}


def pool_figures(engine: Engine) -> dict:
    """The connection pool: in use, size, overflow and the share in use (when the pool says)."""
    pool = engine.pool
    figures: dict[str, Any] = {"pool_class": type(pool).__name__}
    try:
        in_use, size = pool.checkedout(), pool.size()
        overflow = max(pool.overflow(), 0)
        capacity = size + max(getattr(pool, "_max_overflow", 0), 0)
    except (AttributeError, NotImplementedError):  # SingletonThreadPool, NullPool: no figures
        return figures
    figures.update({"pool_in_use": in_use, "pool_size": size, "pool_overflow": overflow,
                    "pool_capacity": capacity,
                    "pool_usage_percent": round(100.0 * in_use / capacity, 2) if capacity else None})
    return figures


def check_database(engine: Engine | None, cfg: dict) -> dict:
    """A round trip to the panel's database, its pool, and on PostgreSQL the connections."""
    if engine is None:
        raise CheckFailed("no database engine")
    began = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()
            figures: dict[str, Any] = {"latency_ms": (time.perf_counter() - began) * 1000}
            if engine.dialect.name == "postgresql":
                used = conn.execute(text("SELECT count(*) FROM pg_stat_activity")).scalar()
                limit = int(conn.execute(text("SHOW max_connections")).scalar())
                figures.update({"connections": int(used), "max_connections": limit,
                                "connections_percent": round(100.0 * used / limit, 2)})
    except Exception as exc:  # any driver error is the answer: the database is not reachable
        raise CheckFailed(f"database error: {type(exc).__name__}: {str(exc)[:200]}") from None
    figures.update(pool_figures(engine))
    _slow(figures, cfg)
    for key, limit_key in (("pool_usage_percent", "pool_usage_max_percent"),
                           ("connections_percent", "connections_max_percent")):
        if cfg.get(limit_key) and (figures.get(key) or 0) > cfg[limit_key]:
            raise CheckFailed(f"{key} {figures[key]:g} % > {cfg[limit_key]:g} %", figures)
    return figures


def check_redis(cfg: dict, timeout: float, settings: dict) -> dict:
    """PING, then connected_clients against maxclients (INFO; CONFIG GET when allowed)."""
    import redis

    url = cfg.get("url") or settings.get("REDIS_URL")
    if not url:
        raise CheckFailed("no Redis configured: set REDIS_URL or the monitor's url")
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        began = time.perf_counter()
        client.ping()
        figures: dict[str, Any] = {"latency_ms": (time.perf_counter() - began) * 1000}
        info = client.info("clients")
        figures["connected_clients"] = int(info.get("connected_clients", 0))
        maxclients = info.get("maxclients")
        if maxclients is None:
            try:  # older servers: only CONFIG GET knows, and managed ones may refuse it
                maxclients = client.config_get("maxclients").get("maxclients")
            except redis.ResponseError:
                maxclients = None
        if maxclients:
            figures["maxclients"] = int(maxclients)
            figures["clients_percent"] = round(100.0 * figures["connected_clients"] / int(maxclients), 3)
    except redis.RedisError as exc:
        raise CheckFailed(f"redis error: {str(exc)[:200]}") from None
    finally:
        client.close()
    _slow(figures, cfg)
    if cfg.get("clients_max_percent") and (figures.get("clients_percent") or 0) > cfg["clients_max_percent"]:
        raise CheckFailed(f"clients {figures['clients_percent']:g} % > {cfg['clients_max_percent']:g} %",
                          figures)
    return figures
