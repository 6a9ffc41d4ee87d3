"""The catalogue's figures as built-in metrics: ``active_products`` and ``low_stock_products``.

Both are states of the catalogue, known now (no history is kept of them): the catalogue lists
the current value, and a range gets one point, now, when now lies in it. A rule on the
``metric`` kind (reducer ``last``) reads them like any other metric.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy.orm import Session

from database import utcnow
from services.metrics.catalogue import SeriesRows, entry, rows_of
from services.products.catalogue import catalogue_counts

Keep = Callable[[dict[str, str]], bool]
UNIT = "products"


class CatalogueProvider:
    """Active products, and active products at or below their low-stock threshold."""

    names = ("active_products", "low_stock_products")

    def catalog(self, session: Session, now: datetime, config: dict) -> list[dict[str, Any]]:
        counts = catalogue_counts(session, int(config.get("LOW_STOCK_THRESHOLD", 5)))
        return [entry(name, {}, "gauge", UNIT, float(counts[name]), now, 0.0) for name in self.names]

    def fetch(self, session, name, start, end, step, keep: Keep, config):
        now = utcnow()
        # The value is now's: placed just inside the range when now lies in it.
        at = min(now, end - timedelta(microseconds=1))
        if not keep({}) or not start <= at < end or now - at > timedelta(seconds=max(step, 60)):
            return "last", []
        value = catalogue_counts(session, int(config.get("LOW_STOCK_THRESHOLD", 5)))[name]
        return "last", [SeriesRows(name, {}, "gauge", UNIT, rows_of([(at, float(value))]))]
