"""Retention: drop rows older than each table's configured days, in small batches.

Each batch is its own short transaction (``DELETE ... WHERE id IN (SELECT id ...
LIMIT n)``), so readers and the ingest never wait long behind a prune. On SQLite
the freed pages go back to the file system with ``PRAGMA incremental_vacuum``,
which needs ``auto_vacuum=INCREMENTAL``: a new (small) database is switched at
start; a large existing one needs ``flask --app app prune --vacuum`` once.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

import database
from database import utcnow
from services.accounts import audit
from services.accounts import AuditLog
from services.ingest import UserActivity
from services.logs import LogEntry
from services.monitor import RequestStat, SystemMetric

log = logging.getLogger(__name__)

# (config key, model, time column) per table.
TABLES = (
    ("RETENTION_DAYS_METRICS", SystemMetric, SystemMetric.recorded_at),
    ("RETENTION_DAYS_REQUEST_STATS", RequestStat, RequestStat.minute),
    ("RETENTION_DAYS_LOGS", LogEntry, LogEntry.created_at),
    ("RETENTION_DAYS_ACTIVITY", UserActivity, UserActivity.created_at),
    ("RETENTION_DAYS_AUDIT", AuditLog, AuditLog.created_at),
)
DEFAULT_DAYS = {"RETENTION_DAYS_METRICS": 30, "RETENTION_DAYS_REQUEST_STATS": 30,
                "RETENTION_DAYS_LOGS": 14, "RETENTION_DAYS_ACTIVITY": 90, "RETENTION_DAYS_AUDIT": 365}
# Tables of feature packages (label, config key, default days, model, time column, extra WHERE),
# added with ``register_table`` by their package's init_app. Shown in a result when they deleted rows.
EXTRA_TABLES: list[tuple] = []
# A database this small converts to incremental auto-vacuum at start in well under a second.
AUTO_CONVERT_MAX_BYTES = 64 * 1024 * 1024
DAY = 86_400.0


@dataclass
class PruneResult:
    """Rows deleted per table, and whether SQLite space was reclaimed."""

    deleted: dict[str, int]
    vacuumed_pages: int | None = None

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def prune(engine: Engine, config: dict, *, now: datetime | None = None,
          batch_size: int | None = None, pause: float = 0.0) -> PruneResult:
    """Delete every row older than its table's retention; 0 days keeps a table forever."""
    now = now or utcnow()
    batch_size = batch_size or int(config.get("RETENTION_BATCH_SIZE") or 5000)
    factory = sessionmaker(engine)
    deleted: dict[str, int] = {}
    for key, model, column in TABLES:
        days = int(config.get(key, DEFAULT_DAYS[key]) or 0)
        if days <= 0:
            continue
        cutoff = now - timedelta(days=days)
        deleted[model.__tablename__] = _delete_older(factory, model, column, cutoff, batch_size, pause)
    # Pushed metrics keep raw points in hours and two rollups in days: their own module says how.
    from services import metrics

    deleted.update(metrics.prune(factory, config, now, batch_size, pause))
    for label, key, default, model, column, where in list(EXTRA_TABLES):
        days = int(config.get(key, default) or 0)
        if days <= 0:
            continue
        count = _delete_older(factory, model, column, now - timedelta(days=days), batch_size, pause,
                              where)
        if count:
            deleted[label] = count
    pages = vacuum_incremental(engine) if engine.dialect.name == "sqlite" else None
    result = PruneResult(deleted, pages)
    log.info("prune removed %d rows %s", result.total, deleted)
    return result


def register_table(label: str, key: str, default_days: int, model, column, where=None) -> None:
    """Prune ``model`` rows whose ``column`` is older than config ``key`` days (and match ``where``).

    Registering the same label again is a no-op, so every app of a process may call it.
    """
    if all(entry[0] != label for entry in EXTRA_TABLES):
        EXTRA_TABLES.append((label, key, default_days, model, column, where))


def _delete_older(factory, model, column, cutoff: datetime, batch_size: int, pause: float,
                  where=None) -> int:
    total = 0
    while True:
        with factory() as session:
            old = select(model.id).where(column < cutoff)
            if where is not None:
                old = old.where(where)
            ids = old.limit(batch_size).scalar_subquery()
            count = session.execute(delete(model).where(model.id.in_(ids)),
                                    execution_options={"synchronize_session": False}).rowcount
            session.commit()
        total += count or 0
        if not count or count < batch_size:
            return total
        if pause:
            time.sleep(pause)  # let writers in between batches


def auto_vacuum_mode(engine: Engine) -> int | None:
    """SQLite's auto_vacuum (0 none, 1 full, 2 incremental); None on other databases."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as conn:
        return int(conn.execute(text("PRAGMA auto_vacuum")).scalar())


def vacuum_incremental(engine: Engine) -> int:
    """Give free pages back to the file system (incremental mode only); returns pages freed."""
    raw = engine.raw_connection()
    try:
        db = raw.driver_connection
        if db.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
            return 0
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        db.commit()
        # execute() steps this pragma once (one page); executescript runs it to the end.
        db.executescript("PRAGMA incremental_vacuum;")
        return free - db.execute("PRAGMA freelist_count").fetchone()[0]
    finally:
        raw.close()


def convert_to_incremental(engine: Engine) -> None:
    """Switch SQLite to incremental auto-vacuum; rewrites the file (VACUUM), so it takes a while."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA auto_vacuum=INCREMENTAL")
        conn.commit()
    raw = engine.raw_connection()
    driver = raw.driver_connection
    previous = driver.isolation_level
    try:
        driver.isolation_level = None  # VACUUM cannot run inside a transaction
        driver.execute("VACUUM")
    finally:
        # The connection goes back to the pool: left in autocommit, later multi-statement
        # writes on it would no longer be atomic.
        driver.isolation_level = previous
        raw.close()


def _maybe_convert(engine: Engine) -> None:
    mode = auto_vacuum_mode(engine)
    if mode is None or mode == 2:
        return
    with engine.connect() as conn:
        size = int(conn.execute(text("PRAGMA page_count")).scalar()) * int(
            conn.execute(text("PRAGMA page_size")).scalar())
    if size > AUTO_CONVERT_MAX_BYTES:
        log.warning("SQLite auto_vacuum is off: pruned space is reused but not returned to the "
                    "disk; run `flask --app app prune --vacuum` once to switch it on")
        return
    try:
        convert_to_incremental(engine)
    except Exception:  # another process may hold the file; the next start tries again
        log.exception("could not switch SQLite to incremental auto-vacuum")


class DailyPruner:
    """Runs ``prune`` at most once a day, in its own thread so no tick waits for it.

    The first run waits ``first_delay`` seconds after start (a restart loop must not prune
    over and over), and the last ``retention.prune`` in the audit trail counts, so several
    processes and restarts still prune once a day.
    """

    def __init__(self, app, interval: float = DAY, first_delay: float = 300.0):
        self.app = app
        self.interval = interval
        self.started = time.monotonic()
        self.first_delay = first_delay
        self.last_run: float | None = None
        self._running = threading.Lock()

    def due(self, now: float | None = None) -> bool:
        """Whether the first delay and a day since the last run (in this process) have passed."""
        now = time.monotonic() if now is None else now
        if now - self.started < self.first_delay:
            return False
        return self.last_run is None or now - self.last_run >= self.interval

    def maybe_run(self, *_args) -> bool:
        """Start a prune in the background when due; False when not due or one is running."""
        if not self.due() or not self._running.acquire(blocking=False):
            return False
        self.last_run = time.monotonic()
        threading.Thread(target=self._run, name="retention", daemon=True).start()
        return True

    def _run(self) -> None:
        try:
            with database.session_scope(self.app) as session:
                last = session.scalar(select(AuditLog.created_at).where(AuditLog.action == "retention.prune")
                                      .order_by(AuditLog.created_at.desc()).limit(1))
            if last is not None and (utcnow() - last).total_seconds() < self.interval:
                return  # another process (or the CLI) pruned within the day
            result = prune(database.get_engine(self.app), self.app.config, pause=0.05)
            with database.session_scope(self.app) as session:
                audit.record(session, "retention.prune", actor="scheduler", ip=None,
                             detail={"deleted": result.deleted})
        except Exception:
            log.exception("daily prune failed; it will be tried again tomorrow")
        finally:
            self._running.release()


def maybe_prune(app, _session=None, _snapshot=None) -> bool:
    """The periodic job (``services.live.jobs``): start the daily prune when it is due.

    Only with the scheduler on: an app built without it (CLI, tests) never prunes by itself.
    """
    pruner = app.extensions.get("retention")
    if pruner is None or not app.config.get("SCHEDULER_ENABLED"):
        return False
    return pruner.maybe_run()


def init_app(app) -> None:
    """Switch new SQLite files to incremental vacuum; keep the daily pruner (run by a periodic job)."""
    _maybe_convert(database.get_engine(app))
    app.extensions["retention"] = DailyPruner(app)
