"""The panel's own Python logging, stored beside the logs other services send.

A request must never wait for a log line: ``emit`` only puts a small dict on a
bounded queue and, when the queue is full, drops the record and counts it. One
background thread per process (``services.logs.writer``) drains the queue and inserts
the records in batches; while the database is unavailable it holds them and retries
with backoff (the rule for what is kept and what is dropped is described there).
"""
from __future__ import annotations

import atexit
import logging
import queue
import threading
from datetime import datetime, timezone
from typing import Any

from services.logs.writer import LogWriter

log = logging.getLogger(__name__)

# Loggers whose records would only echo our own writes or every HTTP request.
EXCLUDED_PREFIXES = ("sqlalchemy.engine", "werkzeug", "engineio", "socketio")
STANDARD_LEVELS = (10, 20, 30, 40, 50)
# As for logs sent through the ingest API; longer text keeps its start and its end (where a
# traceback names the error). Bounds what a full queue can hold.
MAX_MESSAGE_CHARS = 10_000
_FORMATTER = logging.Formatter()


def normalise_level_no(levelno: int) -> int:
    """Round a custom level down to the standard one below it (10..50), so filters stay indexed."""
    below = [lvl for lvl in STANDARD_LEVELS if lvl <= levelno]
    return below[-1] if below else STANDARD_LEVELS[0]


def clip_message(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``message`` if short enough, else its start and end around a note of what was cut."""
    if len(message) <= limit:
        return message
    note = f"\n[... {len(message) - limit} characters cut ...]\n"
    head = (limit - len(note)) * 2 // 5
    tail = limit - len(note) - head
    return f"{message[:head]}{note}{message[-tail:]}"


class PanelLogHandler(logging.Handler):
    """A non-blocking handler: bounded queue, batched writer thread, dropped-record counter."""

    def __init__(self, app, service: str, *, queue_size: int = 10_000, batch_size: int = 500,
                 flush_interval: float = 0.5, level: int = logging.INFO, **writer_options):
        super().__init__(level)
        self.app = app
        self.service = service[:64]
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=queue_size)
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.dropped = 0
        self.written = 0
        self.failed = 0
        self.count_lock = threading.Lock()
        self.writer = LogWriter(self, **writer_options)
        self.previous_root_level: int | None = None

    # -- producer side: called on the request's thread, must never block ------------------
    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record, or count it as dropped when the queue is full."""
        if record.name.startswith(EXCLUDED_PREFIXES) or threading.get_ident() == self.writer.ident:
            return  # what the writer says goes to the other handlers, never back into the queue
        try:
            message = record.getMessage()
            if record.exc_info:
                message = f"{message}\n{_FORMATTER.formatException(record.exc_info)}"
            item = {
                "created_at": datetime.fromtimestamp(record.created, timezone.utc),
                "level": logging.getLevelName(normalise_level_no(record.levelno)),
                "level_no": normalise_level_no(record.levelno),
                "logger": record.name[:128],
                "message": clip_message(message),
            }
        except Exception:  # a broken record must not break the caller
            self.handleError(record)
            return
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            with self.count_lock:
                self.dropped += 1

    # -- consumer side ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer thread (once)."""
        self.writer.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued, then end the writer thread."""
        self.writer.stop(timeout)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is written (tests, shutdown); True when it was."""
        if not self.writer.alive():
            # Nobody would take the marker (never started, or already stopped): do not wait for it.
            return self.queue.empty()
        done = threading.Event()
        try:
            self.queue.put({"_flush": done}, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def stats(self) -> dict[str, Any]:
        """Counters for the API and health: queued now (held by the writer included), written,
        dropped, failed (refused by the database), and whether the writer waits for it."""
        return {"queued": self.queue.qsize() + self.writer.held, "written": self.written,
                "dropped": self.dropped, "failed": self.failed, "capacity": self.queue.maxsize,
                **self.writer.status()}


_current: PanelLogHandler | None = None
_current_lock = threading.Lock()


def _level(name) -> int:
    """LOG_CAPTURE_LEVEL as a number; an unknown name falls back to INFO (and says so)."""
    wanted = str(name or "INFO").strip().upper()
    level = logging.getLevelNamesMapping().get(wanted)
    if level is None:
        log.warning("LOG_CAPTURE_LEVEL=%r is not a logging level; using INFO", name)
        return logging.INFO
    return level


def install(app, **options) -> PanelLogHandler:
    """Attach a handler for ``app`` to the root logger, replacing one installed before."""
    global _current
    cfg = app.config
    handler = PanelLogHandler(
        app, cfg.get("LOG_SERVICE_NAME") or "admin-panel",
        queue_size=options.get("queue_size", cfg.get("LOG_QUEUE_SIZE", 10_000)),
        batch_size=options.get("batch_size", 500),
        flush_interval=options.get("flush_interval", 0.5),
        level=_level(cfg.get("LOG_CAPTURE_LEVEL")),
        retry_max=float(options.get("retry_max", cfg.get("LOG_RETRY_MAX", 30.0))),
    )
    with _current_lock:
        previous, _current = _current, handler
    root = logging.getLogger()
    if previous is not None:
        root.removeHandler(previous)
        if previous.previous_root_level is not None:
            root.setLevel(previous.previous_root_level)
        previous.stop()
    root.addHandler(handler)
    # Without a logging setup (e.g. under gunicorn) the root stops at WARNING: let our level through.
    if root.level > handler.level:
        handler.previous_root_level = root.level
        root.setLevel(handler.level)
    handler.start()
    app.extensions["log_handler"] = handler
    return handler


def uninstall(handler: PanelLogHandler) -> None:
    """Detach ``handler`` and let it write what it holds."""
    global _current
    root = logging.getLogger()
    root.removeHandler(handler)
    if handler.previous_root_level is not None:
        root.setLevel(handler.previous_root_level)
    handler.stop()
    with _current_lock:
        if _current is handler:
            _current = None


@atexit.register
def _flush_at_exit() -> None:
    if _current is not None:
        _current.stop(timeout=2.0)
