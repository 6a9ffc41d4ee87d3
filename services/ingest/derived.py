"""Tables derived from the transactions and the catalogue, brought up to date at start-up.

Ingest keeps them exact, and ``flask rebuild-rollups`` recomputes the rollups; a database whose
transactions were stored before a table existed gets it filled once, at start-up, here. The
low-stock episodes depend on a setting as well (``LOW_STOCK_THRESHOLD``): a start with another
value moves them to it here, instead of at each product's next change.
"""
from __future__ import annotations

import logging

from flask import Flask

import database
from database import utcnow
from services.ingest import first_seen
from services.ingest import rollups
from services.products import stock as product_stock

log = logging.getLogger(__name__)
FILLS = (("per-currency rollups", rollups.fill_per_currency_if_empty),
         ("customer first-seen times", first_seen.fill_if_empty))


def init_app(app: Flask) -> None:
    """Fill each derived table that is empty while its source is not, and move the low-stock
    episodes to the configured threshold.

    A database that cannot be reached here is left alone: the panel starts degraded, and the
    next start (or ``flask rebuild-rollups``) fills it.
    """
    threshold = int(app.config.get("LOW_STOCK_THRESHOLD", product_stock.DEFAULT_LOW_STOCK_THRESHOLD))
    steps = FILLS + (("low-stock episodes",
                      lambda session: product_stock.reconcile_episodes(session, threshold, utcnow())),)
    for what, fill in steps:
        try:
            with database.session_scope(app) as session:
                filled = fill(session)
        except Exception:  # noqa: BLE001 - start-up must not fail on a derived table
            log.warning("%s not brought up to date", what, exc_info=True)
            continue
        if filled:
            log.info("%s brought up to date: %d rows", what, filled)
