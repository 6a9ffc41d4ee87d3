"""How an alert message reads and how it leaves: the headline and chat text of one alert, the
e-mail through SMTP, and where a channel delivers as an admin may see it.

Shared by the notifier (``services.alerts.notifications``), the channel tests
(``services.alerts.channels``) and the contact points of ``services.routing``.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from flask import Flask


def _text(event: str, alert: dict[str, Any]) -> str:
    verb = "FIRING" if event == "fired" else "RESOLVED"
    value = alert.get("value")
    shown = "n/a" if value is None else f"{value:.4g}{alert.get('unit') or ''}"
    extra = ""
    if event == "resolved":
        extra = " (cleared by itself)" if alert.get("auto_resolved") else \
            f" by {alert.get('resolved_by')}: {alert.get('resolve_note') or ''}"
    return f"[{alert['severity'].upper()}] {verb}: {alert['title']} (value {shown}){extra}"


def chat_text(event: str, alert: dict[str, Any]) -> str:
    """The message as Slack-compatible chat shows it: the headline, the summary, the runbook as a
    link (``<url|Runbook>``) and the labels."""
    ann = alert.get("annotations") or {}
    lines = [_text(event, alert)]
    if ann.get("summary"):
        lines.append(ann["summary"])
    if ann.get("runbook_url"):
        lines.append(f"<{ann['runbook_url']}|Runbook>")
    if alert.get("labels"):
        lines.append(" ".join(f"`{k}={v}`" for k, v in sorted(alert["labels"].items())))
    return "\n".join(lines)


def send_mail(app: Flask, subject: str, text: str, to: list[str]) -> None:
    """Send one message to the addresses ``to`` through ``SMTP_HOST``; raise on failure."""
    cfg = app.config
    if not cfg.get("SMTP_HOST"):
        raise RuntimeError("SMTP_HOST is not set")
    msg = EmailMessage()
    msg["Subject"] = subject[:200]
    msg["From"] = cfg.get("SMTP_FROM") or "alerts@localhost"
    msg["To"] = ", ".join(to)
    msg.set_content(text)
    timeout = float(cfg.get("SMTP_TIMEOUT", 10.0))
    with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg.get("SMTP_PORT") or 25), timeout=timeout) as smtp:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls()
        if cfg.get("SMTP_USER"):
            smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
        smtp.send_message(msg)


def target(app: Flask, kind: str, url: str | None, addresses: list[str]) -> str | None:
    """Where a channel delivers, shown without secrets: a webhook's scheme, host and port (its path
    often is the secret), or the SMTP server and how many recipients; None when unset."""
    if kind == "webhook":
        if not url:
            return None
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
    cfg = app.config
    if not cfg.get("SMTP_HOST"):
        return None
    count = len(addresses)
    return f"{cfg['SMTP_HOST']}:{cfg.get('SMTP_PORT') or 25}, {count} recipient{'' if count == 1 else 's'}"
