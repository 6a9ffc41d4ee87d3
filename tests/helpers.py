"""What many tests build the same way: accounts and keys, ingest items, and waiting for a result.

One place, so a change to the ingest format or the test accounts is made once.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable

# The accounts every test app bootstraps (conftest ``BASE_OVERRIDES`` and the ``app`` fixture).
ADMIN = ("admin", "admin-password-1")
VIEWER = ("viewer", "viewer-password-1")
# The ingest key of the test apps, and the header that presents it.
INGEST_KEY = "test-ingest-key"


def bearer(key: str = INGEST_KEY) -> dict[str, str]:
    """The ``Authorization`` header of the ingest API for ``key``."""
    return {"Authorization": f"Bearer {key}"}


INGEST = bearer()


def _when(at: datetime | str | None) -> str:
    if at is None:
        return datetime.now(timezone.utc).isoformat()
    return at if isinstance(at, str) else at.isoformat()


def transaction(tx_id: str, amount_cents: int = 1000, *, status: str = "completed",
                currency: str = "USD", at: datetime | str | None = None,
                customer_id: str | None = None, channel: str | None = None,
                **extra: Any) -> dict[str, Any]:
    """One transaction as the ingest API takes it (``at``: a datetime, an ISO string, or now).

    The customer is ``c-<id>`` unless given; ``channel`` is left out when None.
    """
    item = {"id": tx_id, "amount_cents": amount_cents, "currency": currency, "status": status,
            "customer_id": f"c-{tx_id}" if customer_id is None else customer_id,
            "created_at": _when(at)}
    if channel is not None:
        item["channel"] = channel
    item.update(extra)
    return item


def activity(user_id: str, action: str, *, at: datetime | str | None = None,
             detail: str | None = None) -> dict[str, Any]:
    """One user activity as the ingest API takes it (``created_at`` left out when ``at`` is None)."""
    item: dict[str, Any] = {"user_id": user_id, "action": action}
    if at is not None:
        item["created_at"] = _when(at)
    if detail is not None:
        item["detail"] = detail
    return item


def take_events(sc, name: str) -> list:
    """The ``args[0]`` of each event named ``name`` that the Socket.IO test client ``sc`` received
    since the last take (events of other names are passed over), oldest first.

    The client's own ``get_received`` rebuilds its queue in two steps, and an event that another
    thread (a writer, a held-back flush, the live loop) appends between them is lost. This only
    reads the queue and remembers how far it read. Do not mix it with ``get_received`` on one
    client after the first take.
    """
    start = getattr(sc, "_taken", 0)
    new = sc.queue[start:]
    sc._taken = start + len(new)
    return [packet["args"][0] for packet in new if packet["name"] == name]


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, step: float = 0.05) -> Any:
    """Call ``predicate`` until it returns something true or ``timeout`` seconds pass; its last result."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(step)
    return predicate()
