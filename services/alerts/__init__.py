"""Alerts: rules and the metric values they watch, the alert lifecycle (pending, firing,
acknowledged, resolved), the history, and notifications over webhook and e-mail.
"""
from __future__ import annotations

from flask import Flask

import database
from services.alerts import rules


def init_app(app: Flask) -> None:
    """Seed the shipped rules. (They are evaluated by a periodic job, ``services.live.jobs``.)"""
    with database.session_scope(app) as session:
        rules.seed_defaults(session)
