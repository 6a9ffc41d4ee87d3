"""How an alert message reads and how it leaves: the headline and chat text of one alert, the
webhook POST and the e-mail through SMTP, and whether a settings channel is configured.

Shared by the notifier (``services.alerts.notifications``), the channel tests
(``services.alerts.channels``) and the contact points of ``services.routing``.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask


def channel_problem(app: Flask, channel: str) -> str | None:
    """Why ``channel`` cannot send with this configuration, or None when it can."""
    cfg = app.config
    if channel == "webhook" and not cfg.get("ALERT_WEBHOOK_URL"):
        return "ALERT_WEBHOOK_URL is not set"
    if channel == "email" and not (cfg.get("SMTP_HOST") and cfg.get("SMTP_TO")):
        return "SMTP_HOST and SMTP_TO are not set"
    if channel not in ("webhook", "email"):
        return f"unknown channel {channel!r}"
    return None


def _text(event: str, alert: dict[str, Any]) -> str:
    verb = "FIRING" if event == "fired" else "RESOLVED"
    value = alert.get("value")
    shown = "n/a" if value is None else f"{value:.4g}{alert.get('unit') or ''}"
    extra = ""
    if event == "resolved":
        extra = " (cleared by itself)" if alert.get("auto_resolved") else \
            f" by {alert.get('resolved_by')}: {alert.get('resolve_note') or ''}"
    return f"[{alert['severity'].upper()}] {verb}: {alert['title']} (value {shown}){extra}"


def post_webhook(app: Flask, body: dict[str, Any]) -> None:
    """POST ``body`` as JSON to ``ALERT_WEBHOOK_URL``; raise on failure (any non-2xx answer)."""
    resp = requests.post(app.config["ALERT_WEBHOOK_URL"], json=body,
                         timeout=float(app.config.get("ALERT_WEBHOOK_TIMEOUT", 5.0)))
    if resp.status_code >= 300:
        raise RuntimeError(f"webhook answered HTTP {resp.status_code}: {resp.text[:200]}")


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


def recipients(app: Flask) -> list[str]:
    """The addresses of ``SMTP_TO`` (comma-separated)."""
    return [a.strip() for a in str(app.config.get("SMTP_TO") or "").split(",") if a.strip()]


def send_mail(app: Flask, subject: str, text: str, to: list[str] | None = None) -> None:
    """Send one message to ``to`` (default ``SMTP_TO``) through ``SMTP_HOST``; raise on failure."""
    cfg = app.config
    if not cfg.get("SMTP_HOST"):
        raise RuntimeError("SMTP_HOST is not set")
    msg = EmailMessage()
    msg["Subject"] = subject[:200]
    msg["From"] = cfg.get("SMTP_FROM") or "alerts@localhost"
    msg["To"] = ", ".join(to or recipients(app))
    msg.set_content(text)
    timeout = float(cfg.get("SMTP_TIMEOUT", 10.0))
    with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg.get("SMTP_PORT") or 25), timeout=timeout) as smtp:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls()
        if cfg.get("SMTP_USER"):
            smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
        smtp.send_message(msg)


def target(app: Flask, name: str) -> str | None:
    """Where a settings channel delivers, shown without secrets (None when unconfigured)."""
    cfg = app.config
    if name == "webhook" and cfg.get("ALERT_WEBHOOK_URL"):
        parts = urlsplit(str(cfg["ALERT_WEBHOOK_URL"]))
        return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
    if name == "email" and cfg.get("SMTP_HOST"):
        count = len(recipients(app))
        return f"{cfg['SMTP_HOST']}:{cfg.get('SMTP_PORT') or 25}, {count} recipient{'' if count == 1 else 's'}"
    return None
