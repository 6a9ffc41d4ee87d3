"""Export: CSV/JSON downloads, their formats and sources, and signed share links.
"""
from __future__ import annotations

from services.export.formats import escape_formula
from services.export.sources import SOURCES

__all__ = [
    "SOURCES",
    "escape_formula",
]
