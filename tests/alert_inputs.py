"""Turn a live-snapshot-shaped dict into the rows the alert rules read, then evaluate.

Rules on system and request figures read the catalogue (system samples, per-minute request
statistics), as a real tick does; tests describe the moment as the live snapshot shows it.
``feed`` writes exactly those rows: the machine's sample just before ``now`` and the live
window's requests in the current minute (replacing what an earlier step wrote), so the live
snapshot built from the database shows the very figures given.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete

from services.alerts import DbProbe
from services.alerts import lifecycle as alerts
from services.monitor.models import RequestStat, SystemMetric

# Enough requests that a share given with 4 decimals is a whole number of errors.
REQUESTS = 10_000


def feed(session, snapshot: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Store the snapshot's ``system`` and ``requests`` parts as rows at ``now``; returns it.

    A part left out keeps what is stored (as a snapshot without it gave no verdict); requests
    with ``rpm`` 0 store none (no traffic).
    """
    system = snapshot.get("system")
    if system:
        session.execute(delete(SystemMetric))
        session.add(SystemMetric(recorded_at=now - timedelta(milliseconds=1), host="test",
                                 cpu_percent=system.get("cpu_percent", 1.0),
                                 memory_percent=system.get("memory_percent", 1.0),
                                 disk_percent=system.get("disk_percent", 1.0)))
    requests = snapshot.get("requests")
    if requests:
        session.execute(delete(RequestStat))
        if requests.get("rpm"):
            n = REQUESTS
            avg = requests.get("avg_ms") or 0.0
            session.add(RequestStat(minute=now.replace(second=0, microsecond=0), endpoint="/x",
                                    method="GET", label="app", count=n,
                                    errors=round(n * (requests.get("error_rate") or 0.0)),
                                    total_ms=n * avg, max_ms=avg, buckets={}))
    session.flush()
    return snapshot


def evaluate(session, snapshot: dict[str, Any], now: datetime, probe: DbProbe | None = None):
    """``feed`` then one evaluation at ``now``; the changes."""
    return alerts.evaluate(session, feed(session, snapshot, now), now, probe or DbProbe())
