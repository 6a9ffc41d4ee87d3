"""Strict validation of a monitor as sent by the API or the form.

Every refusal is a ``MonitorError`` (an ``InputError``) naming the field, so the API answers
400 with ``field`` and the form shows the message beside it; nothing is stored on a refusal.
Unknown fields are refused too: a typo (``intervall``) must not silently keep the default.
"""
from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit

from services.checks.models import KINDS
from services.infra.input_checks import InputError

MIN_INTERVAL, MAX_INTERVAL = 10, 86_400
MAX_TIMEOUT = 120.0
MAX_THRESHOLD = 100
MAX_LABELS = 20
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
COMMON = {"name", "kind", "interval_seconds", "timeout_seconds", "failure_threshold",
          "recovery_threshold", "parent_id", "labels", "paused"}
KIND_FIELDS = {
    "http": {"url", "method", "headers", "body", "expected_status", "keyword", "keyword_absent",
             "json_path", "json_expected", "max_response_ms", "tls_days_min", "follow_redirects"},
    "tcp": {"host", "port", "max_response_ms"},
    "push": {"grace_seconds"},
    "database": {"max_response_ms", "pool_usage_max_percent", "connections_max_percent"},
    "redis": {"url", "max_response_ms", "clients_max_percent"},
}
_LABEL_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,39}$")
_HOST = re.compile(r"^[A-Za-z0-9._:\[\]-]{1,253}$")
_STATUS = re.compile(r"^\s*([1-5][0-9][0-9])\s*(?:-\s*([1-5][0-9][0-9])\s*)?$")


class MonitorError(InputError):
    """A monitor field is missing or wrong (400, naming the field)."""

    def __init__(self, message: str, field: str, status: int = 400):
        super().__init__(message, field, "invalid_monitor", status)


def _text(body: dict, key: str, max_len: int, required: bool = False, default: Any = None) -> Any:
    value = body.get(key, default)
    if value is None or value == "":
        if required:
            raise MonitorError(f"{key} is required", key)
        return default
    if not isinstance(value, str):
        raise MonitorError(f"{key} must be a string", key)
    value = value.strip()
    if not value and required:
        raise MonitorError(f"{key} is required", key)
    if len(value) > max_len:
        raise MonitorError(f"{key} must be at most {max_len} characters", key)
    if any(ord(c) < 32 for c in value):
        raise MonitorError(f"{key} must not contain control characters", key)
    return value


def _int(body: dict, key: str, lo: int, hi: int, default: int | None) -> int | None:
    value = body.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise MonitorError(f"{key} must be a whole number between {lo} and {hi}", key)
    if not lo <= value <= hi:
        raise MonitorError(f"{key} must be between {lo} and {hi}", key)
    return value


def _num(body: dict, key: str, lo: float, hi: float, default: float | None) -> float | None:
    value = body.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MonitorError(f"{key} must be a number between {lo:g} and {hi:g}", key)
    if not lo <= value <= hi:
        raise MonitorError(f"{key} must be between {lo:g} and {hi:g}", key)
    return float(value)


def _bool(body: dict, key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise MonitorError(f"{key} must be true or false", key)
    return value


def parse_status_ranges(value: Any, key: str = "expected_status") -> list[list[int]]:
    """``"200-299, 301"`` or ``["200-299", 301]`` → ``[[200, 299], [301, 301]]``."""
    if value is None or value == "":
        return [[200, 399]]
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items or len(items) > 20:
        raise MonitorError(f"{key} must be a list of status codes or ranges like 200-299", key)
    ranges = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        elif isinstance(item, list) and len(item) == 2 and all(
                isinstance(x, int) and not isinstance(x, bool) for x in item):
            item = f"{item[0]}-{item[1]}"  # the stored form, [lo, hi], as sent back by an export
        match = _STATUS.match(item) if isinstance(item, str) else None
        if not match:
            raise MonitorError(f"{key}: {str(item)[:20]!r} is not a status code or range like 200-299", key)
        lo = int(match.group(1))
        hi = int(match.group(2) or lo)
        if hi < lo:
            raise MonitorError(f"{key}: the range {lo}-{hi} ends before it starts", key)
        ranges.append([lo, hi])
    return ranges


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 30:
        raise MonitorError("headers must be an object of at most 30 names and values", "headers")
    out = {}
    for name, val in value.items():
        if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}", name) or not isinstance(val, str) \
                or len(val) > 2000 or any(ord(c) < 32 for c in val):
            raise MonitorError(f"headers: {name[:40]!r} is not a valid header name and value", "headers")
        out[name] = val
    return out


def _labels(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_LABELS:
        raise MonitorError(f"labels must be an object of at most {MAX_LABELS} names and values", "labels")
    out = {}
    for name, val in value.items():
        if not _LABEL_KEY.match(name) or not isinstance(val, str) or len(val) > 100 \
                or any(ord(c) < 32 for c in val):
            raise MonitorError(f"labels: {name[:40]!r} needs a name of letters, digits, _ . - and a "
                               "text value of at most 100 characters", "labels")
        out[name] = val
    return out


def _http(body: dict) -> dict:
    url = _text(body, "url", 2000, required=True)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MonitorError("url must be an http:// or https:// address with a host", "url")
    method = (_text(body, "method", 10, default="GET") or "GET").upper()
    if method not in METHODS:
        raise MonitorError(f"method must be one of {', '.join(METHODS)}", "method")
    json_path = _text(body, "json_path", 200)
    if json_path:
        from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
        from jsonpath_ng.ext import parse

        try:
            parse(json_path)
        except (JsonPathLexerError, JsonPathParserError, Exception):  # the parser raises plain ones too
            raise MonitorError("json_path is not a valid JSONPath expression (e.g. $.status)",
                               "json_path") from None
    expected = body.get("json_expected")
    if expected is not None and not isinstance(expected, (str, int, float, bool)):
        raise MonitorError("json_expected must be a string, number or boolean", "json_expected")
    if isinstance(expected, float) and not math.isfinite(expected):
        raise MonitorError("json_expected must be a finite number", "json_expected")
    if expected is not None and not json_path:
        raise MonitorError("json_expected needs a json_path", "json_expected")
    return {"url": url, "method": method, "headers": _headers(body.get("headers")),
            "body": _text(body, "body", 10_000),
            "expected_status": parse_status_ranges(body.get("expected_status")),
            "keyword": _text(body, "keyword", 500), "keyword_absent": _bool(body, "keyword_absent", False),
            "json_path": json_path, "json_expected": expected,
            "max_response_ms": _num(body, "max_response_ms", 1, 600_000, None),
            "tls_days_min": _int(body, "tls_days_min", 0, 3650, None),
            "follow_redirects": _bool(body, "follow_redirects", True)}


def _kind_config(kind: str, body: dict) -> dict:
    if kind == "http":
        return _http(body)
    if kind == "tcp":
        host = _text(body, "host", 253, required=True)
        if not _HOST.match(host):
            raise MonitorError("host must be a host name or an IP address", "host")
        return {"host": host, "port": _int(body, "port", 1, 65535, None) or _missing("port"),
                "max_response_ms": _num(body, "max_response_ms", 1, 600_000, None)}
    if kind == "push":
        return {"grace_seconds": _int(body, "grace_seconds", 0, 86_400, 30)}
    if kind == "database":
        return {"max_response_ms": _num(body, "max_response_ms", 1, 600_000, None),
                "pool_usage_max_percent": _num(body, "pool_usage_max_percent", 0.01, 100, None),
                "connections_max_percent": _num(body, "connections_max_percent", 0.01, 100, None)}
    url = _text(body, "url", 500)
    if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise MonitorError("url must be a redis://, rediss:// or unix:// address", "url")
    return {"url": url, "max_response_ms": _num(body, "max_response_ms", 1, 600_000, None),
            "clients_max_percent": _num(body, "clients_max_percent", 0.01, 100, None)}


def _missing(key: str):
    raise MonitorError(f"{key} is required", key)


def clean(body: Any, current: dict | None = None, min_interval: int = MIN_INTERVAL) -> dict:
    """A monitor's validated fields from ``body``; with ``current`` (an update), fields left out
    keep their current value. Returns the common fields plus ``config`` (kind-specific)."""
    if not isinstance(body, dict):
        raise MonitorError("the body must be a JSON object", "body")
    merged = {**(current or {}), **body}
    kind = merged.get("kind")
    if kind not in KINDS:
        raise MonitorError(f"kind must be one of {', '.join(KINDS)}", "kind")
    unknown = sorted(set(body) - COMMON - KIND_FIELDS[kind] - {"id"})
    if unknown:
        raise MonitorError(f"{unknown[0]} is not a field of a {kind} monitor", unknown[0])
    if current is not None and body.get("kind", current["kind"]) != current["kind"]:
        # Another kind's settings would not fit the stored ones: refuse rather than mix them.
        raise MonitorError("kind cannot be changed; create a new monitor instead", "kind")
    interval = _int(merged, "interval_seconds", max(1, int(min_interval)), MAX_INTERVAL, 60)
    timeout = _num(merged, "timeout_seconds", 0.1, MAX_TIMEOUT, min(10.0, interval * 0.8))
    if timeout >= interval:
        raise MonitorError("timeout_seconds must be shorter than interval_seconds", "timeout_seconds")
    parent = merged.get("parent_id")
    if parent is not None and (isinstance(parent, bool) or not isinstance(parent, int) or parent < 1
                               or parent > 2**31 - 1):
        raise MonitorError("parent_id must be the id of another monitor, or null", "parent_id")
    return {
        "name": _text(merged, "name", 120, required=True), "kind": kind,
        "interval_seconds": interval, "timeout_seconds": timeout,
        "failure_threshold": _int(merged, "failure_threshold", 1, MAX_THRESHOLD, 3),
        "recovery_threshold": _int(merged, "recovery_threshold", 1, MAX_THRESHOLD, 2),
        "parent_id": parent, "labels": _labels(merged.get("labels")),
        "paused": _bool(merged, "paused", False),
        "config": _kind_config(kind, merged),
    }
