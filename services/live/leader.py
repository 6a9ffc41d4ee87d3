"""Leader election over Redis: one process per deployment samples and broadcasts.

A redis-py ``Lock`` with a TTL, renewed every tick by its holder. When the holder dies its
lock expires after ``ttl`` seconds and the next process to try takes over. Shared small
values of the live layer (push sequence, latest snapshot, time of the last good tick) also
live here, so every process answers with what the leader produced.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import Any

import redis
from redis.exceptions import LockError

log = logging.getLogger(__name__)


class RedisLeader:
    """Holds (or tries to hold) the scheduler lock ``<namespace>:live:leader``."""

    def __init__(self, url: str, namespace: str, ttl: float):
        self.client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
        self.prefix = f"{namespace}:live"
        self.ttl = ttl
        # thread_local=False: stop() releases from another thread than the loop that acquired.
        self.lock = self.client.lock(f"{self.prefix}:leader", timeout=ttl, blocking=False,
                                     thread_local=False)
        self.held = False

    def check(self) -> bool:
        """Renew the lock when held, else try to take it; True when this process leads."""
        try:
            if self.held:
                try:
                    self.lock.reacquire()
                    return True
                except LockError:
                    log.warning("lost the scheduler lock; another process leads now")
                    self.held = False
            self.held = bool(self.lock.acquire(blocking=False))
            if self.held:
                log.info("this process now runs the scheduler (lock %s:leader)", self.prefix)
        except redis.RedisError:
            # Without Redis nobody can prove leadership; sampling pauses, health shows it.
            log.warning("Redis unavailable for the scheduler lock", exc_info=True)
            self.held = False
        return self.held

    def release(self) -> None:
        """Give the lock up at shutdown so another process takes over at once."""
        if not self.held:
            return
        try:
            self.lock.release()
        except (LockError, redis.RedisError):
            log.warning("could not release the scheduler lock", exc_info=True)
        self.held = False

    def next_seq(self) -> int:
        """The next push sequence number, shared so a new leader continues the count."""
        return int(self.client.incr(f"{self.prefix}:seq"))

    def publish_snapshot(self, snapshot: dict[str, Any], at: datetime) -> None:
        """Store the latest snapshot and tick time for the other processes."""
        pipe = self.client.pipeline()
        pipe.set(f"{self.prefix}:snapshot", json.dumps(snapshot), ex=max(int(self.ttl * 6), 60))
        pipe.set(f"{self.prefix}:last_tick", at.isoformat())
        pipe.execute()

    def snapshot(self) -> dict[str, Any] | None:
        """The leader's latest snapshot, or None."""
        raw = self.client.get(f"{self.prefix}:snapshot")
        return json.loads(raw) if raw else None

    def last_tick(self) -> datetime | None:
        """When the leader last completed a tick, or None."""
        raw = self.client.get(f"{self.prefix}:last_tick")
        return datetime.fromisoformat(raw.decode()) if raw else None

    # Sockets of each user, across processes, so a logout anywhere disconnects them everywhere.
    def add_sid(self, user_id: int, sid: str) -> None:
        """Remember that ``sid`` belongs to ``user_id``."""
        key = f"{self.prefix}:sids:{user_id}"
        pipe = self.client.pipeline()
        pipe.sadd(key, sid)
        pipe.expire(key, 86400)
        pipe.execute()

    def remove_sid(self, user_id: int, sid: str) -> None:
        """Forget a disconnected socket."""
        self.client.srem(f"{self.prefix}:sids:{user_id}", sid)

    def pop_sids(self, user_id: int) -> list[str]:
        """Every socket of ``user_id`` (and forget them)."""
        key = f"{self.prefix}:sids:{user_id}"
        pipe = self.client.pipeline()
        pipe.smembers(key)
        pipe.delete(key)
        members, _ = pipe.execute()
        return [m.decode() for m in members]

    # Sockets connected to each process, so health in any process can list them all.
    def publish_sockets(self, process: str, connected: int) -> None:
        """Record this process's socket count (with the time, so dead processes drop out)."""
        self.client.hset(f"{self.prefix}:sockets", process, f"{int(connected)} {time.time():.3f}")

    def socket_counts(self) -> dict[str, int]:
        """Every process's socket count published within the last few ticks."""
        fresh_after = time.time() - max(30.0, 3 * self.ttl)
        out: dict[str, int] = {}
        for name, raw in self.client.hgetall(f"{self.prefix}:sockets").items():
            try:
                count, at = raw.decode().split()
                if float(at) >= fresh_after:
                    out[name.decode()] = int(count)
            except ValueError:
                continue
        return out
