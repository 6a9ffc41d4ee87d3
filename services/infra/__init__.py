"""Shared plumbing every feature may use: the in-process event bus and its topic names, the caches
and their cross-process sync, the Redis channel, the database circuit breaker, input checks and
bulk writes. It imports no other services package.
"""
