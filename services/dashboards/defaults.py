"""The layout made on first start: four cards (revenue, orders, customers, average order value),
the hourly revenue trend, top performers, orders per hour and the customer segments.

Every figure reads what the Overview and the Revenue page read over the same range (today in
UTC; the page's picker sends the viewer's zone): revenue and orders from the catalogue's
rollup metrics, customers and the average order from the insights services.
"""
from __future__ import annotations

from typing import Any

from services.dashboards.model import normalize_widgets

TITLE = "Business overview"


def _w(wid: str, kind: str, title: str, pos: tuple[int, int, int, int], queries: list[dict],
       **options: Any) -> dict[str, Any]:
    x, y, w, h = pos
    return {"id": wid, "type": kind, "title": title, "gridPos": {"x": x, "y": y, "w": w, "h": h},
            "queries": queries, "options": options}


def widgets() -> list[dict[str, Any]]:
    """The default layout's widgets, normalized."""
    today = {"range": "today", "tz": "UTC"}
    raw = [
        _w("revenue", "metric_card", "Revenue today", (0, 0, 3, 2),
           [{"metric": "revenue_cents", "agg": "sum", "reduce": "sum", **today}], format="money"),
        _w("orders", "metric_card", "Orders today", (3, 0, 3, 2),
           [{"metric": "orders", "agg": "sum", "group_by": [], "reduce": "sum", **today}]),
        _w("customers", "metric_card", "Customers today", (6, 0, 3, 2),
           [{"kind": "panel", "panel": "customer_summary", "field": "customers", **today}]),
        _w("aov", "metric_card", "Average order value", (9, 0, 3, 2),
           [{"kind": "panel", "panel": "revenue_summary", "field": "average_transaction_cents",
             **today}], format="money"),
        _w("revenue_trend", "line", "Revenue per hour", (0, 2, 8, 4),
           [{"metric": "revenue_cents", "agg": "sum", "step": "1h", "range": "24h", "tz": "UTC"}],
           format="money"),
        _w("top_performers", "table", "Top customers", (8, 2, 4, 4),
           [{"kind": "panel", "panel": "top_customers", "limit": 10, **today}], format="money"),
        _w("orders_hourly", "bar", "Orders per hour", (0, 6, 8, 4),
           [{"metric": "orders", "agg": "sum", "group_by": [], "step": "1h", "range": "24h",
             "tz": "UTC"}]),
        _w("segments", "pie", "Customer segments", (8, 6, 4, 4),
           [{"kind": "panel", "panel": "customer_segments", **today}]),
    ]
    return normalize_widgets(raw)
