"""One message for one or several alerts of a group, through a settings channel or a contact point.

A single alert keeps the message it always had (``{"text", "event", "alert"}``); a group adds
``alerts`` and a headline counting them. Every message shows each alert's summary, its labels
and its runbook as a link (``<url|Runbook>`` in Slack-compatible chat, the URL in e-mail).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask
from sqlalchemy.orm import Session

from database import utcnow
from services.alerts import messages
from services.alerts.labels import notification_lines
from services.routing import contact_points, default_points

VERB = {"fired": "FIRING", "reminder": "STILL FIRING", "resolved": "RESOLVED"}


@dataclass
class Target:
    """Where one channel delivers: ``kind`` webhook (``url``) or email (``addresses``)."""

    kind: str
    url: str | None = None
    addresses: list[str] = field(default_factory=list)


def problem_of(app: Flask, session: Session, channel: str) -> str | None:
    """Why ``channel`` cannot deliver now (unset, or its contact point deleted); None when it can."""
    return point_problem(app, contact_points.point_of(session, channel), channel)


def point_problem(app: Flask, point: Any, channel: str) -> str | None:
    """``problem_of`` for a contact point already read (None: it was deleted)."""
    if point is None:
        return f"contact point of channel {channel} does not exist"
    return default_points.problem(app, point)


def target_of(app: Flask, session: Session, channel: str) -> Target | None:
    """The channel's destination now; None when it cannot deliver (unset, or deleted)."""
    return _target(app, contact_points.point_of(session, channel))


def _target(app: Flask, point: Any) -> Target | None:
    if point is None or default_points.problem(app, point):
        return None
    return Target(point.kind, url=point.url, addresses=list(point.addresses or []))


def _headline(event: str, alerts: list[dict[str, Any]]) -> str:
    if len(alerts) == 1:
        text = messages._text("fired" if event == "reminder" else event, alerts[0])
        return text.replace("FIRING", "STILL FIRING", 1) if event == "reminder" else text
    worst = min((a["severity"] for a in alerts), key=["critical", "warning", "info"].index)
    return f"[{worst.upper()}] {VERB.get(event, event.upper())}: {len(alerts)} alerts"


def message(event: str, alerts: list[dict[str, Any]]) -> tuple[str, dict[str, Any], str]:
    """(subject, webhook body, e-mail text) for the alerts of one group."""
    subject = _headline(event, alerts)
    if len(alerts) == 1:
        chat = messages.chat_text("fired" if event == "reminder" else event, alerts[0])
        if event == "reminder":
            chat = chat.replace("FIRING", "STILL FIRING", 1)
        body = {"text": chat, "event": event, "alert": alerts[0], "alerts": alerts}
        mail = [subject, *notification_lines(alerts[0]), ""] + [
            f"{k}: {v}" for k, v in alerts[0].items()
            if k not in ("notifications", "labels", "annotations") and v is not None]
        return subject, body, "\n".join(mail)
    chat_lines, mail = [subject], [subject, ""]
    for alert in alerts:
        one = messages.chat_text("fired" if event == "reminder" else event, alert).split("\n")
        chat_lines += ["• " + one[0], *("  " + line for line in one[1:])]
        mail += [f"- {alert['title']} ({alert['severity']}, {alert['status']})",
                 *("  " + line for line in notification_lines(alert)), ""]
    return subject, {"text": "\n".join(chat_lines), "event": event, "alerts": alerts}, "\n".join(mail)


def send(app: Flask, target: Target, event: str, alerts: list[dict[str, Any]]) -> None:
    """Deliver one message; raise on any failure (the caller retries)."""
    subject, body, text = message(event, alerts)
    if target.kind == "webhook":
        resp = requests.post(target.url, json=body, timeout=float(app.config.get("ALERT_WEBHOOK_TIMEOUT", 5.0)))
        if resp.status_code >= 300:
            raise RuntimeError(f"webhook answered HTTP {resp.status_code}: {resp.text[:200]}")
    else:
        messages.send_mail(app, subject, text, to=target.addresses)


def send_test(app: Flask, target: Target, actor: str) -> None:
    """A clearly marked test message through ``target``; raise on failure."""
    text = (f"[TEST] Contact point test from the admin panel, sent by {actor} at "
            f"{utcnow().strftime('%Y-%m-%d %H:%M:%S')} UTC. No alert is firing; nothing to do.")
    if target.kind == "webhook":
        resp = requests.post(target.url, json={"text": text, "event": "test", "alert": None},
                             timeout=float(app.config.get("ALERT_WEBHOOK_TIMEOUT", 5.0)))
        if resp.status_code >= 300:
            raise RuntimeError(f"webhook answered HTTP {resp.status_code}: {resp.text[:200]}")
    else:
        messages.send_mail(app, "[TEST] Admin panel contact point test", text, to=target.addresses)


def timed_test(app: Flask, target: Target, actor: str) -> dict[str, Any]:
    """Send a test message through ``target`` while the caller waits; never raises: a failure is
    the answer (``delivered`` false, ``error``), with the time it took."""
    started, error = time.perf_counter(), None
    try:
        send_test(app, target, actor)
    except Exception as exc:  # the channel's failure is the answer, not an error of ours
        error = f"{type(exc).__name__}: {exc}"[:1000]
    return {"delivered": error is None, "error": error, "at": utcnow().isoformat(),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)}


def test_point(app: Flask, session: Session, point_id: int, actor: str) -> dict[str, Any]:
    """Send a test message through a contact point now (409 when it cannot deliver); the result is
    kept as its ``last_test``."""
    point = contact_points.get(session, point_id)
    problem = default_points.problem(app, point)
    if problem:
        raise contact_points.ContactPointError(f"contact point {point.name!r} cannot deliver: {problem}",
                                               "id", 409)
    result = {"contact_point": point.name, **timed_test(app, _target(app, point), actor)}
    point.last_test = {k: result[k] for k in ("at", "delivered", "error")}
    session.flush()
    return result
