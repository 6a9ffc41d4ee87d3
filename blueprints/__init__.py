"""Blueprints are thin: parse, authorise, call one service, render or jsonify."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint, socket handler, error handler and CLI command to ``app``."""
    from app_factory import csrf
    # The api_* modules add their routes to api.bp when imported, so before it is registered.
    from blueprints import (  # noqa: F401
        api, api_alerts, api_analytics, api_audit, api_export, api_health, api_insights, api_logs,
        api_maintenance, api_metrics, api_ops, api_routing, api_tokens, auth, cli, errors, health,
        ingest_api, metrics, pages, request_input, sockets, sockets_logs,
    )

    errors.init_app(app)
    request_input.init_app(app)
    cli.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    pages.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    csrf.exempt(ingest_api.bp)  # bearer-key API: no cookie, so no CSRF to defend against
    app.register_blueprint(ingest_api.bp)
    app.register_blueprint(metrics.bp)
    # Flask-SocketIO binds decorated handlers only to the server of its first app: register per app.
    sockets.init_app(app)
    sockets_logs.init_app(app)
