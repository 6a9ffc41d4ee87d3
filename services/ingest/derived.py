"""Tables derived from the transactions that a database from an earlier version may lack.

Ingest keeps them exact, and ``flask rebuild-rollups`` recomputes them; a database whose
transactions were stored before a table existed gets it filled once, at start-up, here.
"""
from __future__ import annotations

import logging

from flask import Flask

import database
from services.ingest import first_seen
from services.ingest import rollups

log = logging.getLogger(__name__)
FILLS = (("per-currency rollups", rollups.fill_per_currency_if_empty),
         ("customer first-seen times", first_seen.fill_if_empty))


def init_app(app: Flask) -> None:
    """Fill each derived table that is empty while its source is not.

    A database that cannot be reached here is left alone: the panel starts degraded, and the
    next start (or ``flask rebuild-rollups``) fills it.
    """
    for what, fill in FILLS:
        try:
            with database.session_scope(app) as session:
                filled = fill(session)
        except Exception:  # noqa: BLE001 - start-up must not fail on a derived table
            log.warning("%s not filled", what, exc_info=True)
            continue
        if filled:
            log.info("%s filled: %d rows", what, filled)
