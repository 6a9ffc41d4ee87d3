"""Blueprints are thin: parse, authorise, call one service, render or jsonify."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint, socket handler, error handler and CLI command to ``app``."""
    from blueprints import (
        api, auth, cli, cli_db, errors, heartbeat_api, ingest_api, ingest_metrics, pages, probe,
        prometheus, public_dashboards, request_input, sockets, sockets_logs,
    )
    from extensions import csrf

    errors.init_app(app)
    request_input.init_app(app)
    cli.init_app(app)
    cli_db.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    pages.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(probe.bp)
    csrf.exempt(ingest_api.bp)  # bearer-key API: no cookie, so no CSRF to defend against
    app.register_blueprint(ingest_api.bp)
    csrf.exempt(heartbeat_api.bp)  # the token in the path is the credential; no cookie involved
    app.register_blueprint(heartbeat_api.bp)
    app.register_blueprint(prometheus.bp)
    app.register_blueprint(public_dashboards.bp)
    # Flask-SocketIO binds decorated handlers only to the server of its first app: register per app.
    sockets.init_app(app)
    sockets_logs.init_app(app)
