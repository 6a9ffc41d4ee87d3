"""The data and the ten-widget dashboard the dashboards' browser tests (and the benchmark) share."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import requests

TYPES = ["metric_card", "line", "bar", "pie", "table", "gauge", "progress", "sparkline", "heatmap", "kpi"]


def ingest_history(url: str, key: str, hours: int = 20, per_hour: int = 6) -> None:
    """Completed and failed sales and user actions spread over the last ``hours`` (all in the past,
    so the figures hold still while a test reads them)."""
    now = datetime.now(timezone.utc)
    txs, acts = [], []
    for h in range(1, hours + 1):
        for i in range(per_hour):
            at = now - timedelta(hours=h, minutes=i * 7)
            n = h * 100 + i
            txs.append({"id": f"b{n}", "amount_cents": 500 + 37 * n % 4000, "currency": "USD" if i % 4 else "EUR",
                        "status": "failed" if i == 5 else "completed", "customer_id": f"cust-{n % 13}",
                        "created_at": at.isoformat()})
            acts.append({"user_id": f"u{n % 9}", "action": ["login", "view", "buy"][i % 3], "created_at": at.isoformat()})
    for begin in range(0, len(txs), 500):
        resp = requests.post(f"{url}/api/v1/events", json={"transactions": txs[begin:begin + 500],
                                                            "activities": acts[begin:begin + 500]},
                             headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert resp.status_code == 202, resp.text


def ten_widgets() -> list[dict]:
    """One widget of every type, on figures that hold still (whole past hours, no live samples)."""
    day = {"range": "24h", "tz": "UTC"}
    revenue = {"metric": "revenue_cents", "agg": "sum", "currency": "USD", **day}
    orders = {"metric": "orders", "agg": "sum", "group_by": [], **day}
    spec = {
        "metric_card": ([{**revenue, "reduce": "sum"}], {"format": "money", "thresholds": [{"value": 0, "color": "#1f9d55"}]}),
        "line": ([{**revenue, "step": "1h"}], {"format": "money"}),
        "bar": ([{**orders, "step": "1h"}], {}),
        "pie": ([{"kind": "panel", "panel": "customer_segments", **day}], {}),
        "table": ([{"kind": "panel", "panel": "top_customers", "limit": 5, **day}], {}),
        "gauge": ([{**orders, "reduce": "sum"}], {"max": 500, "thresholds": [{"value": 0, "color": "#d43c3c"}, {"value": 50, "color": "#1f9d55"}]}),
        "progress": ([{**orders, "reduce": "sum"}], {"target": 400}),
        "sparkline": ([{**revenue, "step": "1h", "reduce": "last"}], {"format": "money"}),
        "heatmap": ([{"kind": "panel", "panel": "activity_heatmap", "range": "28d", "tz": "UTC"}], {}),
        "kpi": ([{**revenue, "reduce": "sum"}], {"format": "money", "target": 100000}),
    }
    out = []
    for i, kind in enumerate(TYPES):
        queries, options = spec[kind]
        big = kind in ("line", "bar", "table", "heatmap")
        out.append({"id": kind.replace("_", "-"), "type": kind, "title": f"{kind} widget",
                    "gridPos": {"x": (i % 2) * 6, "y": (i // 2) * 4, "w": 6 if big else 4, "h": 4 if big else 3},
                    "queries": queries, "options": options})
    return out
