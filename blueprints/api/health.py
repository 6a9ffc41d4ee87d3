"""JSON health and cache administration: /admin/api/health, cache/stats, cache/clear."""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user

import database
from blueprints.api.base import BadParam, admin_required, bp, json_body
from services.accounts import audit
from services.infra import cache as cache_manager
from services.ops import health


@bp.get("/health")
def health_report():
    """Every check and the overall status; 503 when unhealthy."""
    result = health.report(current_app._get_current_object())
    return jsonify(result), 503 if result["status"] == "unhealthy" else 200


@bp.get("/cache/stats")
def cache_stats():
    """Hits, misses, hit ratio, size, TTL per namespace, their totals and the backend."""
    return jsonify(cache_manager.stats())


@bp.post("/cache/clear")
@admin_required
def cache_clear():
    """Empty one namespace (``{"namespace": "analytics"}``) or every one (``{}``); audit-logged."""
    namespace = json_body(required=False).get("namespace")
    known = cache_manager.namespaces()
    if namespace is not None and (not isinstance(namespace, str) or namespace not in known):
        raise BadParam(f"namespace must be one of {', '.join(known)} (or left out for all)", "namespace")
    cleared = cache_manager.clear(namespace)
    session = database.get_session()
    audit.record(session, "cache.clear", actor=current_user.username, ip=request.remote_addr,
                 target=namespace or "all", detail={"cleared": cleared})
    session.commit()
    return jsonify({"cleared": cleared, "namespace": namespace,
                    "namespaces": [namespace] if namespace else known})
