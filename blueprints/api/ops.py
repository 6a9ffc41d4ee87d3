"""Operator downloads under /admin/api/: the OpenAPI spec, the Grafana dashboard, Prometheus rules."""
from __future__ import annotations

from pathlib import Path

from flask import Response, current_app, jsonify, send_file

import database
from blueprints.api.base import bp
from services.openapi import spec as openapi_spec
from services.prometheus import rules as prometheus_rules

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of /admin/api/* and /api/v1/events."""
    return jsonify(openapi_spec.spec_for(current_app))


@bp.route("/grafana-dashboard.json")
def grafana_dashboard():
    """The Grafana dashboard for ``/metrics``, as a file to import."""
    return send_file(DASHBOARD, mimetype="application/json", as_attachment=True,
                     download_name="adminpanel-grafana-dashboard.json")


@bp.route("/alerts/prometheus-rules")
def prometheus_rules_file():
    """The alert rules that map onto ``/metrics``, as a Prometheus rule file."""
    text, _skipped = prometheus_rules.build_rules(database.get_session())
    return Response(text, mimetype="application/yaml", headers={
        "Content-Disposition": 'attachment; filename="adminpanel-rules.yml"'})
