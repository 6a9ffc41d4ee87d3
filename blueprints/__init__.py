"""Blueprints are thin: parse, authorise, call one service, render or jsonify."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint, error handler and CLI command to ``app``."""
    from blueprints import api, auth, cli, errors, health, pages
    from blueprints import api_ops, metrics  # noqa: F401  (api_ops adds routes to api.bp)
    from services import prometheus_metrics

    errors.init_app(app)
    cli.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    pages.init_app(app)
    from blueprints import api_audit, api_export, api_logs, sockets_logs  # noqa: F401  (routes on api.bp, socket handlers)
    sockets_logs.init_app(app)
    from blueprints import api_insights  # routes on api.bp
    api_insights.init_app(app)
    from blueprints import api_metrics, sockets  # noqa: F401  (routes on api.bp, socket handlers)
    sockets.init_app(app)
    from blueprints import api_alerts  # noqa: F401  (routes on api.bp)
    from blueprints import api_analytics, api_health  # noqa: F401  (routes on api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    from app_factory import csrf
    from blueprints import ingest_api

    csrf.exempt(ingest_api.bp)  # bearer-key API: no cookie, so no CSRF to defend against
    app.register_blueprint(ingest_api.bp)
    app.register_blueprint(metrics.bp)
    prometheus_metrics.init_app(app)
