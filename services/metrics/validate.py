"""Validation of pushed metric points, shared by both HTTP formats and ``record_metric``.

Each check raises ``MetricError`` naming the item's index and field; nothing here touches the
database, so a whole batch is checked before anything is written.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from services.infra.input_checks import has_control

MAX_POINTS = 1000
MAX_LABELS = 10
MAX_NAME = 200
MAX_LABEL_NAME = 100
MAX_LABEL_VALUE = 200
TYPES = ("gauge", "counter")
FIELDS = {"name", "value", "type", "labels", "unit", "timestamp"}
NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*", re.ASCII)
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*", re.ASCII)
UNIT_RE = re.compile(r"[A-Za-z0-9_%/.-]{1,32}", re.ASCII)
DEFAULT_MAX_AGE = 3600.0
DEFAULT_MAX_FUTURE = 600.0


class MetricError(ValueError):
    """A point (or the batch) is refused; ``as_error()`` is the API's error detail."""

    def __init__(self, message: str, *, field: str | None = None, index: int | None = None,
                 code: str = "invalid_item", status: int = 400):
        super().__init__(message)
        self.message, self.field, self.index, self.code, self.status = message, field, index, code, status

    def as_error(self) -> dict[str, Any]:
        """The detail put under ``{"error": ...}``."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.index is not None:
            body["index"] = self.index
        if self.field is not None:
            body["field"] = self.field
        return body


@dataclass(frozen=True)
class Window:
    """How far back and ahead of ``now`` a point's timestamp may be."""

    now: datetime
    max_age: float = DEFAULT_MAX_AGE
    max_future: float = DEFAULT_MAX_FUTURE

    def __post_init__(self) -> None:
        # Computed once per batch rather than once per point.
        object.__setattr__(self, "earliest", self.now - timedelta(seconds=self.max_age))
        object.__setattr__(self, "latest", self.now + timedelta(seconds=self.max_future))

    @classmethod
    def from_config(cls, config, now: datetime) -> "Window":
        """The window the app's settings ask for."""
        return cls(now, float(config.get("METRIC_MAX_AGE_SECONDS", DEFAULT_MAX_AGE)),
                   float(config.get("METRIC_MAX_FUTURE_SECONDS", DEFAULT_MAX_FUTURE)))


@dataclass(slots=True)
class Point:
    """One validated point, ready to store."""

    name: str
    labels: tuple[tuple[str, str], ...]
    labels_hash: str
    type: str
    unit: str | None
    ts: datetime
    value: float

    @property
    def key(self) -> tuple[str, str]:
        """What identifies its series."""
        return self.name, self.labels_hash


def canonical(labels: dict[str, str]) -> str:
    """Labels as JSON with sorted keys and no spaces: one text per label set."""
    return json.dumps(labels, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def labels_hash(labels: dict[str, str]) -> str:
    """SHA-256 of the canonical labels (the series key, short whatever the labels)."""
    return hashlib.sha256(canonical(labels).encode()).hexdigest()


def check_name(name: Any, field: str = "name") -> str:
    """A metric name as Prometheus spells them, at most 200 characters."""
    if not isinstance(name, str) or not name:
        raise MetricError(f"{field} is required and must be a string", field=field)
    if len(name) > MAX_NAME or not NAME_RE.fullmatch(name):
        raise MetricError(f"{field} must match [a-zA-Z_:][a-zA-Z0-9_:]* and have at most "
                          f"{MAX_NAME} characters", field=field)
    return name


def _labels(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MetricError("labels must be an object of label names to text values", field="labels")
    if len(raw) > MAX_LABELS:
        raise MetricError(f"labels may hold at most {MAX_LABELS} labels; this has {len(raw)}",
                          field="labels")
    out = {}
    for key, value in raw.items():
        if (not isinstance(key, str) or len(key) > MAX_LABEL_NAME or not LABEL_RE.fullmatch(key)
                or key.startswith("__")):
            raise MetricError(f"label name {str(key)[:40]!r} must match [a-zA-Z_][a-zA-Z0-9_]* "
                              f"(at most {MAX_LABEL_NAME} characters, not starting with __)",
                              field="labels")
        if not isinstance(value, str) or len(value) > MAX_LABEL_VALUE or has_control(value):
            raise MetricError(f"label {key} must be text of at most {MAX_LABEL_VALUE} characters "
                              "without control characters", field=f"labels.{key}")
        out[key] = value
    return out


def _value(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise MetricError("value must be a number", field="value")
    try:
        value = float(raw)
    except OverflowError:
        raise MetricError("value is too large", field="value") from None
    if not math.isfinite(value):
        raise MetricError("value must be finite", field="value")
    return value


def _timestamp(raw: Any, window: Window) -> datetime:
    if raw is None:
        return window.now
    if isinstance(raw, datetime):
        ts = raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if not math.isfinite(raw) or abs(raw) > 1e11:
            raise MetricError("timestamp must be seconds since 1970 or ISO 8601", field="timestamp")
        ts = datetime.fromtimestamp(raw, timezone.utc)
    elif isinstance(raw, str) and 0 < len(raw) <= 40:
        try:
            ts = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            raise MetricError("timestamp must be an ISO 8601 time or seconds since 1970",
                              field="timestamp") from None
        ts = ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
    else:
        raise MetricError("timestamp must be an ISO 8601 time or seconds since 1970", field="timestamp")
    ts = ts.astimezone(timezone.utc)
    if ts < window.earliest or ts > window.latest:
        raise MetricError(f"timestamp must lie between {int(window.max_age)} s ago and "
                          f"{int(window.max_future)} s ahead", field="timestamp")
    return ts


def _labels_once(raw: Any, cache: dict | None) -> tuple[tuple[tuple[str, str], ...], str]:
    """(sorted label items, hash), checked once per distinct label set of a batch: most points
    of a batch repeat a few label sets, and checking and hashing them is most of the work."""
    key = None
    if cache is not None and isinstance(raw, dict):
        try:
            key = tuple(raw.items())
            hit = cache.get(key)
        except TypeError:  # an unhashable value: checked (and refused) below
            key, hit = None, None
        if hit is not None:
            return hit
    labels = _labels(raw)
    result = (tuple(sorted(labels.items())), labels_hash(labels))
    if key is not None:
        cache[key] = result
    return result


def check_point(item: Any, window: Window, cache: dict | None = None) -> Point:
    """One point as sent (a JSON object, or ``record_metric``'s arguments)."""
    if not isinstance(item, dict):
        raise MetricError("each metric must be an object", field="item")
    stray = None if FIELDS.issuperset(item) else sorted(str(k)[:40] for k in item if k not in FIELDS)
    if stray:
        raise MetricError(f"unknown field {stray[0]!r}; a metric has {', '.join(sorted(FIELDS))}",
                          field=stray[0])
    name = check_name(item.get("name"))
    kind = item.get("type")
    kind = "gauge" if kind is None else kind
    if kind not in TYPES:
        raise MetricError("type must be gauge or counter", field="type")
    value = _value(item.get("value"))
    if kind == "counter" and value < 0:
        raise MetricError("a counter's value cannot be negative", field="value")
    labels, lhash = _labels_once(item.get("labels"), cache)
    unit = item.get("unit")
    if unit is not None and (not isinstance(unit, str) or not UNIT_RE.fullmatch(unit)):
        raise MetricError("unit must be 1-32 characters of letters, digits and _%/.-", field="unit")
    return Point(name, labels, lhash, kind, unit, _timestamp(item.get("timestamp"), window), value)


def check_batch(body: Any, window: Window) -> list[Point]:
    """Every point of ``{"metrics": [...]}``; the first bad one raises, naming its index."""
    if not isinstance(body, dict) or not isinstance(body.get("metrics"), list):
        raise MetricError('the body must be {"metrics": [...]}', field="metrics", code="invalid_body")
    stray = [k for k in body if k != "metrics"]
    if stray:
        raise MetricError(f"unknown field {str(stray[0])[:40]!r}", field=str(stray[0])[:40],
                          code="invalid_body")
    items = body["metrics"]
    if len(items) > MAX_POINTS:
        raise MetricError(f"a batch holds at most {MAX_POINTS} points; this one has {len(items)}",
                          field="metrics", code="too_many_items", status=413)
    points, cache = [], {}
    for index, item in enumerate(items):
        try:
            points.append(check_point(item, window, cache))
        except MetricError as exc:
            exc.index = index
            exc.message = f"metrics[{index}]: {exc.message}"
            exc.args = (exc.message,)
            raise
    return points
