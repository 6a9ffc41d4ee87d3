"""The feed: what ingest announced (bus topics), sent to the admins' room once per tick."""
from __future__ import annotations

import threading
from collections import deque

from services.live.room import emit_to_admins

# The feed keeps at most this many unsent items per kind between two ticks (newest win).
FEED_MAX = 200

_feed: dict[str, deque] = {"transactions": deque(maxlen=FEED_MAX),
                           "activities": deque(maxlen=FEED_MAX)}
_feed_lock = threading.Lock()


def on_transaction(payload: dict) -> None:
    """Keep a stored transaction (topic ``transaction.stored``) for the next tick's feed."""
    with _feed_lock:
        _feed["transactions"].append(payload)


def on_activity(payload: dict) -> None:
    """Keep a stored activity (topic ``activity.stored``) for the next tick's feed."""
    with _feed_lock:
        _feed["activities"].append(payload)


def drain_feed() -> dict[str, list]:
    """Take what was announced since the last call (oldest first)."""
    with _feed_lock:
        batch = {kind: list(items) for kind, items in _feed.items()}
        for items in _feed.values():
            items.clear()
    return batch


def emit_feed(_app=None) -> None:
    """Send what was announced since the last tick as one ``feed`` event (nothing when empty)."""
    batch = drain_feed()
    if any(batch.values()):
        emit_to_admins("feed", batch)
