"""Batches of widget queries: what ``POST /admin/api/widgets/query`` and the public link answer.

Every query goes through the shared per-tick cache (``cache.WidgetCache``), so a query that
fifty open dashboards hold is computed once per tick. A query that cannot be answered (a
metric that refuses the aggregation, say) answers its own error and the batch goes on.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy.orm import Session

from services.dashboards import compute
from services.dashboards.cache import WidgetCache
from services.dashboards.model import normalize_query, query_key
from services.infra import InputError

MAX_BATCH = 200


def normalize_batch(raw: Any) -> list[dict[str, Any]]:
    """The ``queries`` of a batch request, each normalized (InputError names the bad one)."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_BATCH:
        raise InputError(f"body.queries must be a list of 1 to {MAX_BATCH} widget queries", "body.queries")
    return [normalize_query(q, f"body.queries[{i}]") for i, q in enumerate(raw)]


def run_batch(session: Session, queries: list[dict[str, Any]], cache: WidgetCache,
              now: Callable[[], datetime], config: dict) -> list[dict[str, Any]]:
    """One result per query, in order: ``{"data": ...}`` or ``{"error": {"message", "field"}}``."""
    out = []
    for q in queries:
        def work(q=q):
            try:
                return {"data": compute.run(session, q, now(), config, cache.part)}
            except InputError as exc:  # the same refusal every time: kept for the tick too
                return {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}
        out.append(cache.get_or_compute(query_key(q), work))
    return out


def run_dashboard(session: Session, widgets: list[dict[str, Any]], cache: WidgetCache,
                  now: Callable[[], datetime], config: dict,
                  viewed: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """The results of every saved query of a dashboard, by widget id (one batch); ``viewed``, the
    dashboard's id, marks it as looked at, so its results are computed as the next ticks begin
    (``warm``)."""
    flat = [q for w in widgets for q in w["queries"]]
    if viewed is not None:
        cache.note_viewed(f"dashboard:{viewed}", flat)
    results = iter(run_batch(session, flat, cache, now, config))
    return {w["id"]: [next(results) for _ in w["queries"]] for w in widgets}
