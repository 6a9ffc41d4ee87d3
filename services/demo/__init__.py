"""Demo mode (``python app.py --demo``): the demo admin, backfilled history, live traffic and the console banner.
"""
from __future__ import annotations

from services.demo.traffic import Shop

__all__ = [
    "Shop",
]
