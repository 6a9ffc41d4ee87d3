"""Each monitor's current figures: the Services page's numbers, and the metrics catalogue's."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from database import utcnow
from services.checks import service, state, storage


def current_values(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each monitor's current figures, one dict per monitor, for the metrics catalogue.

    ``monitor_up`` (1 up, 0 down, None pending or paused), ``monitor_latency_ms`` (last check),
    ``monitor_failures`` (failures in a row), uptime % over 24 h / 7 d / 30 d, and from the
    ``database`` and ``redis`` kinds ``db_pool_usage_percent``, ``db_connections_percent`` and
    ``redis_clients_percent`` when the last check measured them.
    """
    now = now or utcnow()
    monitors = service.list_monitors(session)
    figures = storage.uptimes(session, [m.id for m in monitors], now)
    out = []
    for m in monitors:
        detail = m.last_detail or {}
        values = {
            "monitor_up": None if m.paused or m.state == "pending" else (1 if m.state == "up" else 0),
            "monitor_latency_ms": m.last_latency_ms, "monitor_failures": m.consecutive_failures,
            **{k: v for k, v in (figures.get(m.id) or {}).items() if k.startswith("uptime_")},
        }
        for key, source in (("db_pool_usage_percent", "pool_usage_percent"),
                            ("db_connections_percent", "connections_percent"),
                            ("redis_clients_percent", "clients_percent")):
            if detail.get(source) is not None:
                values[key] = detail[source]
        out.append({"id": m.id, "name": m.name, "kind": m.kind, "interval_seconds": m.interval_seconds,
                    "last_checked_at": m.last_checked_at,
                    "labels": {"monitor": m.name, **(m.labels or {})}, "status": state.display_status(m),
                    "values": values})
    return out
