"""Explore: from a figure to the rows behind it (drill-down), customer and order pages, search.

Reads only; the status history these pages show is written by ingest
(``services.ingest.status_history``).
"""
from __future__ import annotations

from services.explore.cursor import ExploreParamError

__all__ = ["ExploreParamError"]
