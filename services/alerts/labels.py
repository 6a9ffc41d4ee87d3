"""Labels and annotations of alert rules and alerts: what they may hold, and how they read.

Labels (``team``, ``service``, any key) say who an alert belongs to: notification policies,
inhibition rules and maintenance windows match on them. Annotations say what it means to a
person: ``summary``, ``description`` and ``runbook_url`` (an http(s) link shown as a link on
the page and in every notification). Both are flat ``{str: str}`` objects, refused with a
message naming the field when they are anything else.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from services.infra.input_checks import has_control

# Prometheus' label name grammar, so labels copy to and from Alertmanager unchanged.
LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
MAX_LABELS = 20
MAX_LABEL_VALUE = 200
SUGGESTED_LABELS = ("team", "service")
ANNOTATIONS = {"summary": 300, "description": 4000, "runbook_url": 2000}
# Names the routing adds to every alert's label set; a rule cannot set them itself.
RESERVED = ("alertname", "severity")


class LabelError(ValueError):
    """Labels or annotations are malformed (answered 400); ``field`` names the culprit."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def clean_labels(raw: Any, field: str = "labels") -> dict[str, str]:
    """Check a labels object; return it with values stripped (empty values dropped)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise LabelError(f"{field} must be an object of name: value strings", field)
    if len(raw) > MAX_LABELS:
        raise LabelError(f"{field} may hold at most {MAX_LABELS} labels", field)
    clean = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not LABEL_NAME.fullmatch(name):
            raise LabelError(f"{field}: label name {str(name)[:40]!r} must match [A-Za-z_][A-Za-z0-9_]* "
                             "(at most 63 characters)", field)
        if name in RESERVED:
            raise LabelError(f"{field}: {name!r} is set from the alert itself and cannot be given", field)
        if not isinstance(value, str) or len(value) > MAX_LABEL_VALUE or has_control(value):
            raise LabelError(f"{field}.{name} must be a one-line string of at most "
                             f"{MAX_LABEL_VALUE} characters", f"{field}.{name}")
        if value.strip():
            clean[name] = value.strip()
    return clean


def _url(value: str, field: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or has_control(value) or " " in value:
        raise LabelError(f"{field} must be an http:// or https:// URL", field)
    return value


def clean_annotations(raw: Any, field: str = "annotations") -> dict[str, str]:
    """Check an annotations object (summary, description, runbook_url); empty values dropped."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise LabelError(f"{field} must be an object with summary, description, runbook_url", field)
    unknown = sorted(str(k)[:40] for k in raw if k not in ANNOTATIONS)
    if unknown:
        raise LabelError(f"{field}: unknown annotation(s) {', '.join(unknown)}; "
                         f"use {', '.join(ANNOTATIONS)}", field)
    clean = {}
    for name, cap in ANNOTATIONS.items():
        value = raw.get(name)
        if value is None:
            continue
        sub = f"{field}.{name}"
        if not isinstance(value, str) or len(value) > cap:
            raise LabelError(f"{sub} must be a string of at most {cap} characters", sub)
        value = value.strip()
        if name != "description" and has_control(value):
            raise LabelError(f"{sub} must be one line", sub)
        if value:
            clean[name] = _url(value, sub) if name == "runbook_url" else value
    return clean


def label_set(alert: Any) -> dict[str, str]:
    """What routing, inhibition and maintenance match on: the alert's labels plus its
    ``alertname`` (the rule's name, or the key of an alert raised from code) and ``severity``."""
    name = alert.rule_name if getattr(alert, "rule_name", None) else (alert.source_key or "")
    return {**(alert.labels or {}), "alertname": name, "severity": alert.severity}


def notification_lines(alert: dict[str, Any]) -> list[str]:
    """The labels and annotations of an alert as lines of a plain-text message."""
    lines = []
    ann = alert.get("annotations") or {}
    if ann.get("summary"):
        lines.append(f"Summary: {ann['summary']}")
    if ann.get("description"):
        lines.append(f"Description: {ann['description']}")
    if ann.get("runbook_url"):
        lines.append(f"Runbook: {ann['runbook_url']}")
    labels = alert.get("labels") or {}
    if labels:
        lines.append("Labels: " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())))
    return lines
