"""What the dashboards tests share: a small widget, creating a dashboard, ingesting a few sales."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import database
from services.ingest import store as ingest
from tests.helpers import transaction


def widget(wid: str = "w1", kind: str = "metric_card", query: dict | None = None, x: int = 0, y: int = 0,
           **options) -> dict:
    """One widget reading revenue of the last 24 hours unless ``query`` says otherwise."""
    return {"id": wid, "type": kind, "title": f"Widget {wid}", "gridPos": {"x": x, "y": y, "w": 3, "h": 2},
            "queries": [query or {"metric": "revenue_cents", "agg": "sum", "reduce": "sum", "range": "24h"}],
            "options": options}


def create(client, title: str = "Sales", widgets: list | None = None, **extra):
    """POST a dashboard; the response."""
    return client.api("POST", "/admin/api/dashboards",
                      json={"title": title, "widgets": widgets if widgets is not None else [widget()], **extra})


def sales(app, now: datetime | None = None) -> list[dict]:
    """Ingest completed, failed and refunded sales in two currencies over the last hours; the items."""
    now = now or datetime.now(timezone.utc)
    items = [
        transaction("t1", 1250, at=now - timedelta(minutes=20), customer_id="alice"),
        transaction("t2", 4000, at=now - timedelta(hours=2), customer_id="bob"),
        transaction("t3", 990, at=now - timedelta(hours=3), customer_id="alice", currency="EUR"),
        transaction("t4", 700, at=now - timedelta(minutes=5), customer_id="carol", status="failed"),
        transaction("t5", 3000, at=now - timedelta(hours=5), customer_id="dave", status="refunded"),
        transaction("t6", 2500, at=now - timedelta(minutes=50), customer_id="carol"),
    ]
    with database.session_scope(app) as session:
        ingest.ingest_batch(session, {"transactions": items})
    return items
