"""Alert notifications: a background worker sends webhooks and e-mails, with bounded retries.

Rows in ``alert_notifications`` are written in the same transaction as the alert change, so
nothing is lost if the process stops; ids are then handed to a per-app worker thread (started
on demand, ending after a quiet minute). Nothing here runs on a request's path or inside the
scheduler tick. Each (alert, event, channel) is one row: a failing channel never holds up the
others. A row is claimed with a conditional UPDATE before sending, so two processes never send
the same one. Retries wait ``ALERT_NOTIFY_BACKOFF_SECONDS * 2**(attempt-1)`` (capped at
``ALERT_NOTIFY_BACKOFF_MAX``), up to ``ALERT_NOTIFY_MAX_ATTEMPTS`` attempts. The rows of one
group go out as one message; what it says and where it goes is ``services.routing.delivery``
(the senders themselves are in ``services.alerts.messages``).
"""
from __future__ import annotations

import heapq
import logging
import threading
import time
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import database
from database import utcnow
from services.alerts.lifecycle import alert_to_dict
from services.alerts.models import Alert, AlertNotification
from services.infra import breaker as circuit_breaker
from services.routing import contact_points, delivery

log = logging.getLogger(__name__)
IDLE_EXIT_SECONDS = 60.0
CLAIMABLE = ("queued", "retrying")
MAX_GROUP = 100  # alerts in one grouped message at most; the rest follow in the next


def notifications_for(session: Session, alert_id: int) -> list[AlertNotification]:
    """What was sent (or failed) for one alert, oldest first."""
    return list(session.scalars(select(AlertNotification).where(AlertNotification.alert_id == alert_id)
                                .order_by(AlertNotification.id)))


def health_check(app: Flask, since_minutes: int = 60) -> dict[str, Any]:
    """A health check entry: degraded while a channel's latest finished notification failed.

    Shaped like the other checks of ``services.ops.health`` (``status``, ``message``, details).
    """
    since = utcnow() - timedelta(minutes=since_minutes)
    channels: dict[str, dict[str, Any]] = {}
    with database.session_scope(app) as session:
        rows = session.execute(select(AlertNotification.channel, AlertNotification.status,
                                      AlertNotification.last_error, AlertNotification.created_at)
                               .where(AlertNotification.created_at >= since,
                                      AlertNotification.status.in_(("sent", "failed")))
                               .order_by(AlertNotification.id)).all()
        configured = [c for c in contact_points.BUILTIN if delivery.problem_of(app, session, c) is None]
    for channel, status, error, created in rows:
        channels[channel] = {"status": status, "error": error, "at": created.isoformat()}
    failing = {c: v for c, v in channels.items() if v["status"] == "failed"}
    if failing:
        names = ", ".join(sorted(failing))
        return {"status": "degraded", "message": f"alert notifications failing: {names}",
                "configured": configured, "channels": channels}
    return {"status": "healthy", "message": "ok" if configured else "no notification channel configured",
            "configured": configured, "channels": channels}


class Notifier:
    """One app's queue of notification ids with due times, and the thread that drains it."""

    def __init__(self, app: Flask):
        self.app = app
        self._heap: list[tuple[float, int]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._busy = 0

    def enqueue(self, ids: list[int], delay: float = 0.0) -> None:
        """Send these rows after ``delay`` seconds; starts the worker when none runs."""
        due = time.monotonic() + max(0.0, delay)
        with self._cond:
            for nid in ids:
                heapq.heappush(self._heap, (due, nid))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="alert-notifier", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being sent (retries included); False on timeout."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    def _next(self) -> int | None:
        idle_since = time.monotonic()
        with self._cond:
            while True:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    self._busy += 1
                    return heapq.heappop(self._heap)[1]
                if not self._heap and now - idle_since > IDLE_EXIT_SECONDS:
                    self._thread = None
                    return None
                wait = self._heap[0][0] - now if self._heap else IDLE_EXIT_SECONDS
                self._cond.wait(min(wait, 1.0))

    def _run(self) -> None:
        while True:
            nid = self._next()
            if nid is None:
                return
            try:
                self._deliver(nid)
            except Exception as exc:  # the worker must survive anything one row does (e.g. DB down)
                circuit_breaker.log_failure(log, f"processing alert notification {nid}", exc)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _deliver(self, nid: int) -> None:
        app = self.app
        with database.session_scope(app) as session:
            batch = self._claim(session, nid)
            if not batch:
                return  # another process has it, or it is already done
            first = batch[0]
            channel, event = first.channel, first.event
            payloads = [alert_to_dict(session.get(Alert, row.alert_id)) for row in batch]
            target = delivery.target_of(app, session, channel)
            attempts = {row.id: row.attempts for row in batch}
        error = None
        try:
            if target is None:
                raise RuntimeError(f"channel {channel} cannot deliver: not configured or deleted")
            delivery.send(app, target, event, payloads)
        except Exception as exc:  # any failure of the channel is recorded and retried
            error = f"{type(exc).__name__}: {exc}"[:1000]
            log.warning("alert notification %s via %s failed (attempt %s): %s",
                        nid, channel, attempts[nid] if nid in attempts else "?", error)
        for row_id, tries in attempts.items():
            self._record(row_id, tries, error)

    @staticmethod
    def _claim(session: Session, nid: int) -> list[AlertNotification]:
        """Claim row ``nid`` and the rows of its group (same channel and key) that are due now,
        each with a conditional UPDATE, so a group goes out as one message and never twice."""
        def take(row_id: int) -> bool:
            return session.execute(
                update(AlertNotification).where(AlertNotification.id == row_id,
                                                AlertNotification.status.in_(CLAIMABLE))
                .values(status="sending", attempts=AlertNotification.attempts + 1)
                .execution_options(synchronize_session=False)).rowcount == 1

        if not take(nid):
            return []
        first = session.get(AlertNotification, nid)
        session.refresh(first)
        batch = [first]
        if first.group_key:
            due = utcnow() + timedelta(seconds=1)
            for other in session.scalars(select(AlertNotification).where(
                    AlertNotification.channel == first.channel, AlertNotification.group_key == first.group_key,
                    AlertNotification.event == first.event, AlertNotification.id != nid,
                    AlertNotification.status.in_(CLAIMABLE),
                    (AlertNotification.next_attempt_at.is_(None)) | (AlertNotification.next_attempt_at <= due))
                    .order_by(AlertNotification.id).limit(MAX_GROUP)):
                if take(other.id):
                    session.refresh(other)
                    batch.append(other)
        return batch

    def _record(self, nid: int, attempts: int, error: str | None) -> None:
        cfg = self.app.config
        delay = None
        with database.session_scope(self.app) as session:
            row = session.get(AlertNotification, nid)
            if error is None:
                row.status, row.sent_at, row.last_error, row.next_attempt_at = "sent", utcnow(), None, None
            elif attempts < int(cfg.get("ALERT_NOTIFY_MAX_ATTEMPTS", 5)):
                base = float(cfg.get("ALERT_NOTIFY_BACKOFF_SECONDS", 2.0))
                delay = min(base * 2 ** (attempts - 1), float(cfg.get("ALERT_NOTIFY_BACKOFF_MAX", 300.0)))
                row.status, row.last_error = "retrying", error
                row.next_attempt_at = utcnow() + timedelta(seconds=delay)
            else:
                row.status, row.last_error, row.next_attempt_at = "failed", error, None
        if delay is not None:
            self.enqueue([nid], delay)


def notifier(app: Flask) -> Notifier:
    """The app's notifier (created on first use)."""
    found = app.extensions.get("alert_notifier")
    if found is None:
        found = app.extensions.setdefault("alert_notifier", Notifier(app))
    return found


def enqueue(app: Flask, ids: list[int]) -> None:
    """Hand committed notification rows to the background worker, each at its due time (a
    group's wait or interval; see ``services.routing.dispatch``)."""
    if not ids:
        return
    with database.session_scope(app) as session:
        due = dict(session.execute(select(AlertNotification.id, AlertNotification.next_attempt_at)
                                   .where(AlertNotification.id.in_(ids))).all())
    now = utcnow()
    for nid in ids:
        notifier(app).enqueue([nid], (due[nid] - now).total_seconds() if due.get(nid) else 0.0)


def resume(app: Flask) -> int:
    """Queue again what a stopped process left unsent (rows of the last day); returns how many."""
    since = utcnow() - timedelta(days=1)
    stale = utcnow() - timedelta(minutes=10)
    with database.session_scope(app) as session:
        # A row left 'sending' by a process that died mid-send gets another chance.
        session.execute(update(AlertNotification).where(
            AlertNotification.status == "sending", AlertNotification.created_at < stale)
            .values(status="retrying").execution_options(synchronize_session=False))
        rows = session.execute(select(AlertNotification.id, AlertNotification.next_attempt_at).where(
            AlertNotification.status.in_(CLAIMABLE), AlertNotification.created_at >= since)).all()
    now = utcnow()
    for nid, due in rows:
        notifier(app).enqueue([nid], (due - now).total_seconds() if due else 0.0)
    return len(rows)
