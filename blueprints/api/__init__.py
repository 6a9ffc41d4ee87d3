"""The JSON API under /admin/api/: one blueprint (``base.bp``), one module of routes per feature.

Importing this package imports every feature module, so every route is on ``bp`` before the
blueprint is registered.
"""
from __future__ import annotations

from blueprints.api import (  # noqa: F401
    alerts, analytics, audit, checks, dashboards, export, health, insights, live, logs, maintenance,
    metrics, ops, routing, tokens,
)
from blueprints.api.base import bp

__all__ = ["bp"]
