"""Validation of ingested items, shared by the HTTP API and the in-process hooks.

Every validator takes one raw item (a dict decoded from JSON, or keyword
arguments of a hook) and returns a normalised dict ready for the database, or
raises ``ValidationError`` naming the item's kind, index and field. Nothing here
touches the database, so a whole batch is checked before anything is written.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from services.infra import has_control, has_unstorable

STATUSES = ("completed", "pending", "failed", "refunded")
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
LEVEL_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL"}
KINDS = ("transactions", "activities", "logs", "alerts", "products")
MAX_ITEMS = 1000
# Amounts above this (10 billion in major units) are a bug on the sender's side, not a sale.
MAX_AMOUNT_CENTS = 10**12
# Times far in the future are refused: they would sit in a bucket nobody looks at.
MAX_FUTURE = timedelta(days=1)
MIN_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
MAX_MESSAGE = 10_000

_ID_RE = re.compile(r"^[A-Za-z0-9_.:@/+=-]{1,64}$")
# Checked on what was sent, before upper-casing: "ısd".upper() is "ISD".
_CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$", re.ASCII)
_CHANNEL_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_SERVICE_RE = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")


class ValidationError(ValueError):
    """An item (or the batch) is malformed; ``as_error()`` is the API's error detail."""

    def __init__(self, message: str, *, field: str | None = None, index: int | None = None,
                 kind: str | None = None, code: str = "invalid_item"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.index = index
        self.kind = kind
        self.code = code

    def as_error(self) -> dict[str, Any]:
        """The detail put under ``{"error": ...}`` in a 400 answer."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        for key in ("kind", "index", "field"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        return body


def _string(item: dict, field: str, *, required: bool, max_len: int,
            pattern: re.Pattern | None = None, hint: str = "", multiline: bool = False) -> str | None:
    """A text field, stripped; one line unless ``multiline`` (which still refuses what no
    database stores: NUL and lone surrogates)."""
    value = item.get(field)
    if value is None:
        if required:
            raise ValidationError(f"{field} is required", field=field)
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string", field=field)
    value = value.strip()
    if not value:
        if required:
            raise ValidationError(f"{field} must not be empty", field=field)
        return None
    if len(value) > max_len:
        raise ValidationError(f"{field} must have at most {max_len} characters", field=field)
    if has_unstorable(value) if multiline else has_control(value):
        raise ValidationError(f"{field} must not contain " + (
            "NUL characters or lone surrogates" if multiline else "control characters"), field=field)
    if pattern is not None and not pattern.match(value):
        raise ValidationError(f"{field} {hint or 'has characters that are not allowed'}", field=field)
    return value


def parse_time(value: Any, field: str, now: datetime) -> datetime:
    """An ISO 8601 string (or aware datetime) as aware UTC; naive means UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and 0 < len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"{field} must be an ISO 8601 time", field=field) from None
    else:
        raise ValidationError(f"{field} must be an ISO 8601 time string", field=field)
    parsed = parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
    if parsed < MIN_TIME or parsed > now + MAX_FUTURE:
        raise ValidationError(f"{field} is out of range (year 2000 up to one day ahead)", field=field)
    return parsed


# A range asked of the panel's queries: wide enough for any real question, and far enough
# from datetime's limits that stepping a period back or forward cannot overflow.
QUERY_MIN_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)
QUERY_MAX_TIME = datetime(2999, 12, 31, tzinfo=timezone.utc)


def parse_query_time(raw: str, field: str) -> datetime:
    """A query's ISO 8601 time as aware UTC (naive means UTC), between 1970 and 2999."""
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{field} must be an ISO 8601 time", field=field) from None
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not QUERY_MIN_TIME <= value <= QUERY_MAX_TIME:
        raise ValidationError(f"{field} must be between 1970 and 2999", field=field)
    return value


def _optional_time(item: dict, field: str, now: datetime) -> datetime | None:
    value = item.get(field)
    return None if value is None else parse_time(value, field, now)


def validate_transaction(item: Any, now: datetime) -> dict[str, Any]:
    """Check one transaction; ``updated_at``/``channel`` are None when not given."""
    if not isinstance(item, dict):
        raise ValidationError("a transaction must be a JSON object")
    tid = _string(item, "id", required=True, max_len=64, pattern=_ID_RE,
                  hint="may use letters, digits and _ . : @ / + = - only")
    amount = item.get("amount_cents")
    # bool is an int in Python; true is not an amount.
    if amount is None:
        raise ValidationError("amount_cents is required", field="amount_cents")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError("amount_cents must be an integer (minor units)", field="amount_cents")
    if not 0 <= amount <= MAX_AMOUNT_CENTS:
        raise ValidationError(f"amount_cents must be between 0 and {MAX_AMOUNT_CENTS}", field="amount_cents")
    currency = _string(item, "currency", required=True, max_len=3)
    if not _CURRENCY_RE.match(currency):
        raise ValidationError("currency must be a 3-letter ISO 4217 code", field="currency")
    currency = currency.upper()
    status = _string(item, "status", required=True, max_len=16)
    status = status.lower() if status.isascii() else status
    if status not in STATUSES:
        raise ValidationError(f"status must be one of {', '.join(STATUSES)}", field="status")
    customer = _string(item, "customer_id", required=True, max_len=64)
    channel = _string(item, "channel", required=False, max_len=32)
    if channel is not None:
        # ASCII first: the Kelvin sign lower-cases to "k".
        channel = channel.lower() if channel.isascii() else channel
        if not _CHANNEL_RE.match(channel):
            raise ValidationError("channel must be a short lowercase name such as web, app or amazon",
                                  field="channel")
    if item.get("created_at") is None:
        raise ValidationError("created_at is required", field="created_at")
    created = parse_time(item["created_at"], "created_at", now)
    updated = _optional_time(item, "updated_at", now)
    if updated is not None and updated < created:
        raise ValidationError("updated_at must not be before created_at", field="updated_at")
    return {"id": tid, "amount_cents": amount, "currency": currency, "status": status,
            "customer_id": customer, "channel": channel, "created_at": created, "updated_at": updated}


def validate_activity(item: Any, now: datetime) -> dict[str, Any]:
    """Check one user activity; ``created_at`` defaults to ``now``."""
    if not isinstance(item, dict):
        raise ValidationError("an activity must be a JSON object")
    return {
        "user_id": _string(item, "user_id", required=True, max_len=64),
        "action": _string(item, "action", required=True, max_len=64),
        "detail": _string(item, "detail", required=False, max_len=500, multiline=True),
        "created_at": _optional_time(item, "created_at", now) or now,
    }


def validate_log(item: Any, now: datetime) -> dict[str, Any]:
    """Check one log line; the level is a Python logging level name (WARN/FATAL accepted)."""
    if not isinstance(item, dict):
        raise ValidationError("a log entry must be a JSON object")
    service = _string(item, "service", required=True, max_len=64, pattern=_SERVICE_RE,
                      hint="may use letters, digits and _ . : / - only")
    level = _string(item, "level", required=True, max_len=10)
    level = level.upper() if level.isascii() else level  # "ınfo".upper() is "INFO"
    level = LEVEL_ALIASES.get(level, level)
    if level not in LEVELS:
        raise ValidationError(f"level must be one of {', '.join(LEVELS)}", field="level")
    message = item.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ValidationError("message is required and must be a non-empty string", field="message")
    if len(message) > MAX_MESSAGE:
        raise ValidationError(f"message must have at most {MAX_MESSAGE} characters", field="message")
    if has_unstorable(message):
        raise ValidationError("message must not contain NUL characters or lone surrogates",
                              field="message")
    return {
        "service": service, "level": level, "level_no": LEVELS[level],
        "logger": _string(item, "logger", required=False, max_len=128),
        "message": message,
        "created_at": _optional_time(item, "created_at", now) or now,
    }


# "alerts" are checked by the alerts package: ``services.ingest.store`` adds that validator.
VALIDATORS = {"transactions": validate_transaction, "activities": validate_activity, "logs": validate_log}


def validate_batch(body: Any, now: datetime,
                   validators: dict[str, Any] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Check a whole batch; the first bad item raises with its kind, index and field.

    ``validators``: per kind, the check of one item (default ``VALIDATORS``); a kind without
    one is refused when the batch carries items of it.
    """
    validators = VALIDATORS if validators is None else validators
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - set(KINDS))
    if unknown:
        raise ValidationError(f"unknown key {unknown[0]!r}; expected any of {', '.join(KINDS)}",
                              field=unknown[0], code="invalid_body")
    total = 0
    for kind in KINDS:
        items = body.get(kind)
        if items is not None and not isinstance(items, list):
            raise ValidationError(f"{kind} must be a list", kind=kind, code="invalid_body")
        total += len(items or ())
    if total > MAX_ITEMS:
        raise ValidationError(f"a batch holds at most {MAX_ITEMS} items in all; this one has {total}",
                              code="too_many_items")
    clean: dict[str, list[dict[str, Any]]] = {}
    for kind in KINDS:
        validator = validators.get(kind)
        if validator is None and body.get(kind):
            raise ValidationError(f"{kind} are not accepted here", field=kind, kind=kind, code="invalid_body")
        rows = []
        for index, item in enumerate(body.get(kind) or ()):
            try:
                rows.append(validator(item, now))
            except ValidationError as exc:
                exc.kind, exc.index = kind, index
                exc.message = f"{kind}[{index}]: {exc.message}"
                raise
        clean[kind] = rows
    return clean

