"""Alerts raised by code: ``raise_alert`` / ``resolve_alert`` in this process, and the same for
scripts and other services through the API.

Such an alert has no rule: it is identified by its ``key`` (deduplicated: raising the same key
again while it is open updates it and notifies nobody anew) and goes through the same lifecycle
(acknowledge, resolve, snooze), routing, inhibition, maintenance and notifications as a rule's.
Without a key, the key is a fingerprint of the title and the labels, as Alertmanager
identifies an alert by its label set.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import database
from database import utcnow
from services.alerts.models import Alert
from services.alerts.labels import LabelError, clean_annotations, clean_labels
from services.alerts.rules import OPEN_STATUSES, SEVERITIES
from services.alerts.lifecycle import Change
from services.infra.input_checks import InputError, has_control
from services.ingest.validation import ValidationError, parse_query_time
from services.routing.maintenance import Muter

SOURCE_METRIC = "external"
MAX_KEY = 200


class ExternalAlertError(InputError):
    """A malformed external alert (400 naming the field)."""

    def __init__(self, message: str, field: str):
        super().__init__(message, field, "invalid_alert")


def fingerprint(title: str, labels: dict[str, str]) -> str:
    """The key of an alert sent without one: a hash of its title and labels."""
    raw = json.dumps([title, sorted(labels.items())], ensure_ascii=False)
    return "fp:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def clean(item: Any) -> dict[str, Any]:
    """Check one external alert ``{"key"?, "status", "title", "severity", "labels"?,
    "annotations"?, "started_at"?}``; returns the clean fields."""
    if not isinstance(item, dict):
        raise ExternalAlertError("an alert must be an object", "body")
    unknown = set(item) - {"key", "status", "title", "severity", "labels", "annotations", "started_at"}
    if unknown:
        raise ExternalAlertError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}", "body")
    status = item.get("status", "firing")
    if status not in ("firing", "resolved"):
        raise ExternalAlertError("status must be firing or resolved", "status")
    title = item.get("title")
    if status == "firing" or title is not None:
        if not isinstance(title, str) or not title.strip() or len(title.strip()) > 255 or has_control(title):
            raise ExternalAlertError("title must be one line of 1 to 255 characters", "title")
        title = title.strip()
    severity = item.get("severity", "warning")
    if severity not in SEVERITIES:
        raise ExternalAlertError(f"severity must be one of {', '.join(SEVERITIES)}", "severity")
    try:
        labels = clean_labels(item.get("labels"))
        annotations = clean_annotations(item.get("annotations"))
    except LabelError as exc:
        raise ExternalAlertError(str(exc), exc.field) from None
    key = item.get("key")
    if key is None:
        if title is None:
            raise ExternalAlertError("key (or title and labels) must name the alert to resolve", "key")
        key = fingerprint(title, labels)
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY or has_control(key):
        raise ExternalAlertError(f"key must be one line of 1 to {MAX_KEY} characters", "key")
    started = item.get("started_at")
    if started is not None:
        try:
            started = parse_query_time(started, "started_at") if isinstance(started, str) else None
        except ValidationError as exc:
            raise ExternalAlertError(str(exc), "started_at") from None
        if started is None:
            raise ExternalAlertError("started_at must be an ISO 8601 time", "started_at")
    return {"key": key.strip(), "status": status, "title": title, "severity": severity, "labels": labels,
            "annotations": annotations, "started_at": started}


def _open(session: Session, key: str) -> Alert | None:
    return session.scalar(select(Alert).where(Alert.source_key == key, Alert.status.in_(OPEN_STATUSES)))


def apply(session: Session, item: dict[str, Any], now: datetime | None = None) -> tuple[Alert | None, list[Change]]:
    """Fire, refresh or resolve the alert of one clean item (flushed); returns it and what changed."""
    now = now or utcnow()
    alert = _open(session, item["key"])
    if item["status"] == "resolved":
        if alert is None:
            return None, []  # nothing open under that key: resolving again changes nothing
        alert.status, alert.resolved_at, alert.auto_resolved = "resolved", now, True
        alert.resolve_note, alert.snoozed_until = "resolved by its source", None
        session.flush()
        return alert, [Change("resolved", alert)]
    if alert is not None:
        alert.title, alert.severity, alert.last_seen_at = item["title"], item["severity"], now
        alert.labels, alert.annotations = item["labels"], item["annotations"]
        session.flush()
        return alert, []
    if Muter(session, now).suppressed_by({**item["labels"], "alertname": item["key"][:120],
                                          "severity": item["severity"]}):
        return None, []  # a "suppress" maintenance window: nothing opens; a later send may open it
    started = min(item["started_at"] or now, now)
    alert = Alert(rule_id=None, rule_name=item["key"][:120], metric=SOURCE_METRIC, severity=item["severity"],
                  status="firing", title=item["title"], value=None, worst_value=None, threshold=None,
                  started_at=started, fired_at=now, last_seen_at=now, labels=item["labels"],
                  annotations=item["annotations"], source_key=item["key"])
    session.add(alert)
    session.flush()
    return alert, [Change("fired", alert)]


def submit(app: Flask, session: Session, item: Any) -> tuple[Alert | None, bool]:
    """Check, apply, commit and announce one external alert; returns (alert, whether it changed).

    Two processes raising one new key at once meet the unique index; the loser retries as an
    update of the winner's alert.
    """
    from services.alerts.dispatch import commit_and_announce

    clean_item = clean(item)
    for attempt in range(2):
        try:
            alert, changes = apply(session, clean_item)
            commit_and_announce(app, session, changes)
            return alert, bool(changes)
        except IntegrityError:
            session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def raise_alert(key: str, title: str, severity: str = "warning", labels: dict | None = None,
                annotations: dict | None = None, app: Flask | None = None) -> int | None:
    """Fire (or refresh) the alert ``key`` from code in this process; returns its id (None when a
    "suppress" maintenance window kept it from opening)."""
    app = app or current_app._get_current_object()
    with database.session_scope(app) as session:
        alert, _ = submit(app, session, {"key": key, "status": "firing", "title": title, "severity": severity,
                                         "labels": labels or {}, "annotations": annotations or {}})
        return alert.id if alert else None


def resolve_alert(key: str, app: Flask | None = None) -> bool:
    """Resolve the open alert ``key``; False when none was open."""
    app = app or current_app._get_current_object()
    with database.session_scope(app) as session:
        _, changed = submit(app, session, {"key": key, "status": "resolved"})
        return changed
