"""Keyset cursors over ``(time, id)``, newest first, and the parameter error of this package."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any


class ExploreParamError(ValueError):
    """A parameter cannot be used; ``field`` names it (answered 400)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def encode(moment: datetime, key: Any) -> str:
    """An opaque cursor: the next page starts after the row at ``moment`` with id ``key``."""
    raw = json.dumps([moment.astimezone(timezone.utc).isoformat(), key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str | None, key_type: type) -> tuple[datetime, Any] | None:
    """Inverse of ``encode`` (None for no cursor); ExploreParamError when it was not made by it."""
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        moment, key = datetime.fromisoformat(raw[0]), raw[1]
        if moment.tzinfo is None or type(key) is not key_type or len(raw) != 2:
            raise ValueError
        if key_type is int and not 0 <= key < 2**63:
            raise ValueError
        if key_type is str and len(key) > 64:
            raise ValueError
        return moment.astimezone(timezone.utc), key
    except (ValueError, TypeError, IndexError, KeyError, UnicodeDecodeError, json.JSONDecodeError):
        raise ExploreParamError("cursor is not valid; start again without it", "cursor") from None
