"""The writer thread behind the panel's log handler, and what it does when it cannot store.

It takes the records ``PanelLogHandler`` queued, inserts them in batches, and announces each
stored row on the "log.stored" topic.

When the database is unavailable (``circuit_breaker.is_outage``) the writer holds the batch
it took and tries again after a pause that doubles from ``RETRY_FIRST`` up to ``RETRY_MAX``
seconds, instead of failing (and logging a traceback) for every record. Meanwhile it keeps
the *oldest* records and drops the newest, counted: the batch it holds and the queue
(``LOG_QUEUE_SIZE``) fill up, after which the handler drops each new record. The start of an
outage is what explains it; what follows is mostly the same complaint again. Memory stays
bounded by (queue size + one batch) records of at most ``MAX_MESSAGE_CHARS`` characters.

What the writer says about it goes to the other handlers only (stderr), never back into the
queue (``PanelLogHandler.emit`` ignores the writer's thread): one line when storing stops,
a reminder at most every ``REMIND_EVERY`` seconds while it lasts, and one line when it works
again, with the number of records dropped. That number is also stored as a log entry of its
own once the database is back, so the Logs page shows the gap.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

import database
from services.infra import breaker as circuit_breaker
from services.infra import bus as events
from services.infra import topics
from services.logs.models import LogEntry

if TYPE_CHECKING:
    from services.logs.handler import PanelLogHandler

log = logging.getLogger(__name__)
RETRY_FIRST = 0.5
RETRY_MAX = 30.0
REMIND_EVERY = 300.0


@dataclass
class Outage:
    """Since when the writer cannot store, and the counters it reports at the end."""

    since: datetime
    started: float  # monotonic
    dropped_before: int
    attempts: int = 0
    last_said: float = 0.0
    retry_at: float = 0.0


class LogWriter:
    """One thread that drains a handler's queue into ``log_entries``."""

    def __init__(self, handler: "PanelLogHandler", *, retry_first: float = RETRY_FIRST,
                 retry_max: float = RETRY_MAX, remind_every: float = REMIND_EVERY,
                 clock: Callable[[], float] = time.monotonic):
        self.handler = handler
        self.retry_first = retry_first
        self.retry_max = retry_max
        self.remind_every = remind_every
        self.clock = clock
        self.outage: Outage | None = None
        self.held = 0  # records taken from the queue and not stored yet
        self.ident: int | None = None
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self.thread is None:
            self.thread = threading.Thread(target=self.run, name="log-writer", daemon=True)
            self.thread.start()

    def alive(self) -> bool:
        """Whether the thread runs (and will take what is queued)."""
        return self.thread is not None and self.thread.is_alive()

    def stop(self, timeout: float) -> None:
        """Store what is queued (give it up if the database is down), then end the thread."""
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def status(self) -> dict[str, Any]:
        """``state`` (storing, or waiting for the database), since when, and the next try."""
        outage = self.outage
        if outage is None:
            return {"state": "storing", "outage_since": None, "retry_in": None}
        return {"state": "waiting_for_database", "outage_since": outage.since.isoformat(),
                "retry_in": round(max(0.0, outage.retry_at - self.clock()), 1)}

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        """Take a batch, store it (retrying while the database is down), release flush waiters."""
        self.ident = threading.get_ident()
        q = self.handler.queue
        while not (self.stop_event.is_set() and q.empty()):
            items = self._take(q)
            batch = [i for i in items if "_flush" not in i]
            while batch:
                batch = self._store(batch)
                self.held = len(batch)
                if batch and self.stop_event.is_set():
                    self._give_up(batch, q)
                    batch = []
                elif batch:
                    self.stop_event.wait(max(0.0, self.outage.retry_at - self.clock()))
            for item in items:
                if "_flush" in item:
                    item["_flush"].set()

    def _take(self, q: "queue.Queue[dict[str, Any]]") -> list[dict[str, Any]]:
        try:
            items = [q.get(timeout=self.handler.flush_interval)]
        except queue.Empty:
            return []
        while len(items) < self.handler.batch_size:
            try:
                items.append(q.get_nowait())
            except queue.Empty:
                break
        return items

    def _store(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert ``batch``; returns what is left to store (nothing unless the database is down).

        Rows the database refuses for what they hold are found one by one and counted as
        failed, so one bad record does not cost the rest of its batch.
        """
        try:
            self._insert(batch)
        except Exception as exc:
            if circuit_breaker.is_outage(exc):
                self._cannot_store(exc)
                return batch
            log.error("could not store %d log records; storing them one by one", len(batch),
                      exc_info=exc)
            for index, item in enumerate(batch):
                try:
                    self._insert([item])
                except Exception as row_exc:
                    if circuit_breaker.is_outage(row_exc):
                        self._cannot_store(row_exc)
                        return batch[index:]
                    with self.handler.count_lock:
                        self.handler.failed += 1
        if self.outage is not None:
            self._stored_again(len(batch))
        return []

    def _insert(self, batch: list[dict[str, Any]]) -> None:
        with database.session_scope(self.handler.app) as session:
            rows = [LogEntry(service=self.handler.service, **item) for item in batch]
            session.add_all(rows)
            session.flush()
            payloads = [entry_payload(row) for row in rows]
        with self.handler.count_lock:
            self.handler.written += len(batch)
        for payload in payloads:
            events.publish(topics.LOG_STORED, payload)

    # -- what it says about an outage ------------------------------------------------------------
    def _cannot_store(self, exc: BaseException) -> None:
        now = self.clock()
        outage = self.outage
        if outage is None:
            outage = self.outage = Outage(datetime.now(timezone.utc), now, self.handler.dropped,
                                          last_said=now)
            log.warning("log capture: cannot store records, the database is unavailable (%s); "
                        "holding the oldest (up to %d), dropping and counting newer ones, "
                        "retrying after %g s, doubling up to %g s", type(exc).__name__,
                        self.handler.queue.maxsize + self.handler.batch_size,
                        self.retry_first, self.retry_max)
        elif now - outage.last_said >= self.remind_every:
            outage.last_said = now
            log.warning("log capture: the database is still unavailable after %d s; %d records "
                        "waiting, %d dropped so far", now - outage.started,
                        self.held + self.handler.queue.qsize(),
                        self.handler.dropped - outage.dropped_before)
        outage.retry_at = now + min(self.retry_max, self.retry_first * 2 ** outage.attempts)
        outage.attempts += 1

    def _stored_again(self, stored: int) -> None:
        outage, self.outage = self.outage, None
        dropped = self.handler.dropped - outage.dropped_before
        seconds = self.clock() - outage.started
        log.warning("log capture: storing again after %d s without the database; %d records "
                    "kept, %d dropped", seconds, stored + self.handler.queue.qsize(), dropped)
        if dropped:
            self._record_gap(outage, dropped)

    def _record_gap(self, outage: Outage, dropped: int) -> None:
        """Store one entry saying how many records are missing and when, so the Logs page shows it."""
        now = datetime.now(timezone.utc)
        item = {"created_at": now, "level": "WARNING", "level_no": logging.WARNING,
                "logger": log.name,
                "message": f"{dropped} log records of this process were dropped while the database "
                           f"was unavailable, from {outage.since.isoformat(timespec='seconds')} "
                           f"to {now.isoformat(timespec='seconds')}."}
        try:
            self._insert([item])
        except Exception as exc:  # the line on stderr has said it already; no second outage report
            log.warning("log capture: could not store the note of the dropped records (%s)",
                        type(exc).__name__)

    def _give_up(self, batch: list[dict[str, Any]], q: "queue.Queue[dict[str, Any]]") -> None:
        """Stopping while the database is down: what could not be stored is dropped, said once."""
        lost = len(batch)
        while True:
            try:
                item = q.get_nowait()
            except queue.Empty:
                break
            if "_flush" in item:
                item["_flush"].set()
            else:
                lost += 1
        with self.handler.count_lock:
            self.handler.dropped += lost
        self.held = 0
        log.warning("log capture: stopping while the database is unavailable; %d records could "
                    "not be stored", lost)


def entry_payload(row) -> dict[str, Any]:
    """The "log.stored" payload of a stored LogEntry (the same shape ingest publishes)."""
    return {"id": row.id, "created_at": row.created_at.isoformat(), "level": row.level,
            "level_no": row.level_no, "service": row.service, "logger": row.logger,
            "message": row.message}
