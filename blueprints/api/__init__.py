"""The JSON API under /admin/api/: one blueprint (``base.bp``), one module of routes per feature.

Importing this package imports every feature module, so every route is on ``bp`` before the
blueprint is registered.
"""
from __future__ import annotations

from blueprints.api import alerts, analytics, audit, export, health, insights, live, logs, ops  # noqa: F401
from blueprints.api.base import bp

__all__ = ["bp"]
