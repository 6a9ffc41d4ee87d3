"""One message for one or several alerts of a group, through a settings channel or a contact point.

A single alert keeps the message it always had (``{"text", "event", "alert"}``); a group adds
``alerts`` and a headline counting them. Every message shows each alert's summary, its labels
and its runbook as a link (``<url|Runbook>`` in Slack-compatible chat, the URL in e-mail).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask
from sqlalchemy.orm import Session

from services.alerts import messages
from services.alerts.labels import notification_lines
from services.routing.models import ContactPoint

VERB = {"fired": "FIRING", "reminder": "STILL FIRING", "resolved": "RESOLVED"}


@dataclass
class Target:
    """Where one channel delivers: ``kind`` webhook (``url``) or email (``addresses``)."""

    kind: str
    url: str | None = None
    addresses: list[str] = field(default_factory=list)


def target_of(app: Flask, session: Session, channel: str) -> Target | None:
    """The channel's destination now; None when it cannot deliver (unset, or deleted)."""
    if channel == "webhook":
        url = app.config.get("ALERT_WEBHOOK_URL")
        return Target("webhook", url=url) if url else None
    if channel == "email":
        to = messages.recipients(app)
        return Target("email", addresses=to) if to and app.config.get("SMTP_HOST") else None
    if channel.startswith("cp:") and channel[3:].isdigit():
        point = session.get(ContactPoint, int(channel[3:]))
        if point is not None:
            return Target(point.kind, url=point.url, addresses=list(point.addresses or []))
    return None


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
    from database import utcnow

    text = (f"[TEST] Contact point test from the admin panel, sent by {actor} at "
            f"{utcnow().strftime('%Y-%m-%d %H:%M:%S')} UTC. No alert is firing; nothing to do.")
    if target.kind == "webhook":
        resp = requests.post(target.url, json={"text": text, "event": "test", "alert": None},
                             timeout=float(app.config.get("ALERT_WEBHOOK_TIMEOUT", 5.0)))
        if resp.status_code >= 300:
            raise RuntimeError(f"webhook answered HTTP {resp.status_code}: {resp.text[:200]}")
    else:
        messages.send_mail(app, "[TEST] Admin panel contact point test", text, to=target.addresses)
