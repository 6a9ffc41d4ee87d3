"""A tiny in-process publish/subscribe hook.

Ingest announces what it stored here; the live layer subscribes and streams it.
Keeping this seam means services never import Socket.IO.
"""
from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any, Callable

log = logging.getLogger(__name__)
_subscribers: dict[str, list[Callable[[Any], None]]] = defaultdict(list)
_lock = threading.Lock()


def subscribe(topic: str, handler: Callable[[Any], None]) -> None:
    """Call ``handler(payload)`` for every ``publish(topic, payload)``; idempotent per handler."""
    with _lock:
        if handler not in _subscribers[topic]:
            _subscribers[topic].append(handler)


def unsubscribe(topic: str, handler: Callable[[Any], None]) -> None:
    """Stop calling ``handler`` for ``topic``."""
    with _lock:
        if handler in _subscribers[topic]:
            _subscribers[topic].remove(handler)


def publish(topic: str, payload: Any) -> None:
    """Hand ``payload`` to every subscriber; a failing subscriber is logged, never raised."""
    with _lock:
        handlers = list(_subscribers[topic])
    for handler in handlers:
        try:
            handler(payload)
        except Exception:  # a subscriber must not break the publisher (e.g. an ingest)
            log.exception("subscriber %r failed on topic %s", handler, topic)
