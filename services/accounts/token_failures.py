"""Failed API token attempts, counted per client address: past ``API_TOKEN_FAIL_LIMIT`` (e.g.
"10 per minute; 50 per hour") every bearer request from that address is refused (429) until the
window passes, so nobody can try tokens at the speed of the network.

Counts live in the rate limiter's storage (Redis when configured, so every process sees them).
When that storage cannot be reached, attempts are not limited: tokens are 256-bit random, the
limit slows guessing down but is not what makes it hopeless.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from limits import parse_many
from limits.strategies import RateLimiter

log = logging.getLogger(__name__)
DEFAULT_LIMIT = "10 per minute; 50 per hour"


def _limits(spec: str | None) -> list[Any]:
    try:
        return list(parse_many(spec or DEFAULT_LIMIT))
    except ValueError:
        return list(parse_many(DEFAULT_LIMIT))


def _key(ip: str | None) -> str:
    return f"api-token-fail:{ip or 'unknown'}"


def blocked(limiter: RateLimiter, spec: str | None, ip: str | None) -> int | None:
    """Seconds until ``ip`` may try tokens again, or None while it is under the limit."""
    try:
        for item in _limits(spec):
            if not limiter.test(item, _key(ip)):
                reset_at = limiter.get_window_stats(item, _key(ip)).reset_time
                return max(1, int(reset_at - time.time()) + 1)
    except Exception as exc:  # storage down: see the module docstring
        log.warning("API token failure counts unavailable: %s", exc)
    return None


def count_failure(limiter: RateLimiter, spec: str | None, ip: str | None) -> None:
    """Count one refused token from ``ip``."""
    try:
        for item in _limits(spec):
            limiter.hit(item, _key(ip))
    except Exception as exc:
        log.warning("API token failure not counted: %s", exc)


def first_refusal(limiter: RateLimiter, spec: str | None, ip: str | None) -> bool:
    """True once per window of the shortest limit: the refusal worth an audit entry (not every one)."""
    try:
        shortest = min(_limits(spec), key=lambda item: item.get_expiry())
        return limiter.hit(type(shortest)(1, shortest.multiples), f"api-token-fail-audited:{ip or 'unknown'}")
    except Exception:
        return True
