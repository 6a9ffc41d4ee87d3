"""Alerts: rules and the metric values they watch, the alert lifecycle (pending, firing,
acknowledged, resolved), the history, and notifications over webhook and e-mail.
"""
from __future__ import annotations

from flask import Flask

import database
from services.alerts import rules
from services.alerts.dispatch import commit_and_announce
from services.alerts.history import AlertFilters, FilterError, alert_history, list_alerts
from services.alerts.lifecycle import AlertStateError
from services.alerts.models import Alert, AlertNotification, AlertRule
from services.alerts.rules import METRICS, RuleError
from services.alerts.values import SETTLED_STATUSES, DbProbe, MetricContext


def init_app(app: Flask) -> None:
    """Seed the shipped rules and the default contact points they send to (the settings' webhook
    and e-mail). (Rules are evaluated by a periodic job, ``services.live.jobs``.)"""
    from services.routing import default_points

    with database.session_scope(app) as session:
        rules.seed_defaults(session)
    with database.session_scope(app) as session:  # apart: a lost creation race undoes only itself
        default_points.sync(app, session)


__all__ = [
    "Alert",
    "AlertFilters",
    "AlertNotification",
    "AlertRule",
    "AlertStateError",
    "DbProbe",
    "FilterError",
    "METRICS",
    "MetricContext",
    "RuleError",
    "SETTLED_STATUSES",
    "alert_history",
    "commit_and_announce",
    "list_alerts",
]
