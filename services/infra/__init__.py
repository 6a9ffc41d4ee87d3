"""Shared plumbing every feature may use: the in-process event bus and its topic names, the caches
and their cross-process sync, the Redis channel, the database circuit breaker, input checks and
bulk writes. It imports no other services package.
"""
from __future__ import annotations

from services.infra.cache import CacheManager, UnknownNamespace
from services.infra.input_checks import (
    DEFAULT_QUERY_CAP, MAX_ID, MAX_INT, MAX_JSON_DEPTH, QUERY_CAPS, InputError, ascii_int,
    check_query, check_text, has_control, has_unstorable, parse_json, storable, unstorable_path,
)
from services.infra.log_throttle import LogThrottle
from services.infra.redis_channel import RedisChannel

__all__ = [
    "CacheManager",
    "DEFAULT_QUERY_CAP",
    "InputError",
    "LogThrottle",
    "MAX_ID",
    "MAX_INT",
    "MAX_JSON_DEPTH",
    "QUERY_CAPS",
    "RedisChannel",
    "UnknownNamespace",
    "ascii_int",
    "check_query",
    "check_text",
    "has_control",
    "has_unstorable",
    "parse_json",
    "storable",
    "unstorable_path",
]
