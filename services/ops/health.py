"""Health of the panel: each dependency checked, then rolled into healthy / degraded / unhealthy.

The database is what the panel cannot work without: down means unhealthy (503).
Everything else only degrades it: an open circuit breaker, a stale or missing
scheduler (when it should run), Redis down (when configured), failing alert
notification channels, disk or memory
past the warning threshold. Past the critical threshold disk and memory are
unhealthy, since the process is about to fail.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import psutil
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import database
from services.infra import cache as cache_manager
from services.infra import breaker as circuit_breaker
from services.alerts import notifications
from services.monitor import self_cost
from services.live import sockets as socket_registry
from services.live import scheduler as live

log = logging.getLogger(__name__)
ORDER = {"healthy": 0, "degraded": 1, "unhealthy": 2}


def _check(status: str, message: str, **details: Any) -> dict[str, Any]:
    return {"status": status, "message": message, **details}


def check_database(app: Flask) -> dict[str, Any]:
    """A timed trivial query; slow is degraded, an error unhealthy."""
    started = time.perf_counter()
    try:
        with database.get_engine(app).connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        circuit_breaker.log_failure(log, "checking health", exc)
        return _check("unhealthy", f"database did not answer: {type(exc).__name__}",
                      latency_ms=None, breaker=circuit_breaker.state(app))
    ms = round((time.perf_counter() - started) * 1000, 2)
    breaker = circuit_breaker.state(app)
    slow = app.config["HEALTH_DB_SLOW_MS"]
    if breaker["state"] != "closed":
        return _check("degraded", f"circuit breaker is {breaker['state']}", latency_ms=ms,
                      breaker=breaker)
    if ms > slow:
        return _check("degraded", f"database answered in {ms} ms (over {slow:g} ms)",
                      latency_ms=ms, breaker=breaker)
    return _check("healthy", f"database answered in {ms} ms", latency_ms=ms, breaker=breaker)


def check_cache(app: Flask) -> dict[str, Any]:
    """The caches answer; with Redis, whether invalidations reach the other processes."""
    stats = cache_manager.manager(app).stats()
    details = {"backend": stats["backend"], "entries": stats["totals"]["size"],
               "hit_ratio": stats["totals"]["hit_ratio"]}
    sync = stats.get("redis")
    if sync is not None and not sync["connected"]:
        return _check("degraded", "cache invalidation cannot reach other processes (Redis down)",
                      **details, redis=sync)
    return _check("healthy", "caches answering", **details)


def check_scheduler(app: Flask, now: datetime) -> dict[str, Any]:
    """Age of the last scheduler tick; missing or old is degraded when the scheduler should run."""
    enabled = bool(app.config.get("SCHEDULER_ENABLED"))
    last = None
    try:
        last = live.last_tick_at(app)
    except Exception as exc:  # another subsystem's failure must not break health
        log.warning("health: reading the last scheduler tick failed: %s", exc)
    limit = float(app.config["HEALTH_SCHEDULER_STALE_SECONDS"])
    if last is None:
        if enabled:
            return _check("degraded", "scheduler has not ticked yet", enabled=True,
                          last_tick_at=None, age_seconds=None)
        return _check("healthy", "scheduler disabled in this process", enabled=False,
                      last_tick_at=None, age_seconds=None)
    age = round((now - last).total_seconds(), 1)
    fields = {"enabled": enabled, "last_tick_at": last.isoformat(), "age_seconds": age,
              "max_age_seconds": limit}
    if enabled and age > limit:
        return _check("degraded", f"last scheduler tick {age:g} s ago (over {limit:g} s)", **fields)
    return _check("healthy", f"last scheduler tick {age:g} s ago", **fields)


def check_notifications(app: Flask, database_status: str) -> dict[str, Any]:
    """Alert notifications: degraded while a webhook or SMTP channel keeps failing."""
    if database_status == "unhealthy":
        return _check("degraded", "unknown while the database is unavailable")
    try:
        return notifications.health_check(app)
    except SQLAlchemyError as exc:
        log.warning("health: reading notification outcomes failed: %s", exc)
        return _check("degraded", "notification outcomes could not be read")


def check_log_capture(app: Flask) -> dict[str, Any] | None:
    """The panel's own log records (when captured): degraded while they wait for the database."""
    handler = app.extensions.get("log_handler")
    if handler is None:
        return None
    stats = handler.stats()
    if stats["state"] != "storing":
        return _check("degraded", f"log records wait for the database since {stats['outage_since']} "
                                  f"({stats['queued']} waiting, {stats['dropped']} dropped)", **stats)
    return _check("healthy", f"{stats['written']} records stored, {stats['dropped']} dropped", **stats)


def check_redis(app: Flask) -> dict[str, Any] | None:
    """PING Redis when ``REDIS_URL`` is set (None otherwise); down is degraded."""
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    import redis

    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        log.warning("health: Redis check failed: %s", exc)
        return _check("degraded", f"Redis did not answer: {type(exc).__name__}")
    ms = round((time.perf_counter() - started) * 1000, 2)
    return _check("healthy", f"Redis answered in {ms} ms", latency_ms=ms)


def _threshold(name: str, percent: float, warn: float, crit: float, **extra: Any) -> dict[str, Any]:
    fields = {"percent": percent, "warn_percent": warn, "critical_percent": crit, **extra}
    if percent >= crit:
        return _check("unhealthy", f"{name} {percent:g}% used (critical at {crit:g}%)", **fields)
    if percent >= warn:
        return _check("degraded", f"{name} {percent:g}% used (warning at {warn:g}%)", **fields)
    return _check("healthy", f"{name} {percent:g}% used", **fields)


def check_disk(app: Flask) -> dict[str, Any]:
    """Use of the disk holding the instance folder."""
    path = app.instance_path if _exists(app.instance_path) else "/"
    usage = psutil.disk_usage(path)
    return _threshold("disk", round(usage.percent, 1), app.config["HEALTH_DISK_WARN_PERCENT"],
                      app.config["HEALTH_DISK_CRIT_PERCENT"], path=path, free_bytes=usage.free)


def check_memory(app: Flask) -> dict[str, Any]:
    """System memory in use."""
    mem = psutil.virtual_memory()
    return _threshold("memory", round(mem.percent, 1), app.config["HEALTH_MEMORY_WARN_PERCENT"],
                      app.config["HEALTH_MEMORY_CRIT_PERCENT"], available_bytes=mem.available)


def _exists(path: str) -> bool:
    import os

    return os.path.isdir(path)


def report(app: Flask, now: datetime | None = None) -> dict[str, Any]:
    """Every check, the overall status (the worst one) and the reasons behind it.

    The result is also kept in the ``health`` cache namespace so other views can
    show the latest report without checking again.
    """
    now = now or database.utcnow()
    checks: dict[str, Any] = {
        "database": check_database(app),
        "cache": check_cache(app),
        "scheduler": check_scheduler(app, now),
        "disk": check_disk(app),
        "memory": check_memory(app),
    }
    # The monitor's own cost: degraded while a slow tick has widened the scheduler's interval.
    checks["self_cost"] = self_cost.health()
    checks["notifications"] = check_notifications(app, checks["database"]["status"])
    checks["sockets"] = socket_registry.health_check(app)
    for name, optional in (("redis", check_redis(app)), ("log_capture", check_log_capture(app))):
        if optional is not None:
            checks[name] = optional
    # The contract calls the scheduler check "sampler": the same check under both names.
    checks["sampler"] = checks["scheduler"]
    status = max((c["status"] for c in checks.values()), key=ORDER.__getitem__)
    reasons = [f"{name}: {c['message']}" for name, c in checks.items()
               if c["status"] != "healthy" and name != "sampler"]
    result = {"status": status, "reasons": reasons, "checked_at": now.isoformat(),
              "checks": checks}
    cache_manager.manager(app).set("health", "report", result)
    return result
