"""Exports: ``POST /admin/api/export`` signs a link; ``GET /admin/api/export/<token>`` downloads it."""
from __future__ import annotations

from flask import Response, current_app, jsonify, request
from flask_login import current_user

import database
from blueprints.api.base import BadParam, bp, json_body
from blueprints.errors import json_error
from services.accounts import audit
from services.export import links as export


def _ttl() -> int:
    return int(current_app.config["EXPORT_LINK_TTL"])


@bp.post("/export")
def create_export():
    """Body ``{"data_type", "format", "start", "end"}`` → ``{"url", "expires_at", "filename"}``."""
    body = json_body()
    try:
        req = export.parse_request(body, current_user.id, database.utcnow())
    except export.ExportError as exc:
        raise BadParam(str(exc)) from None
    token, expires = export.sign(req, current_app.config["SECRET_KEY"], _ttl())
    db = database.get_session()
    audit.record(db, "export.create", actor=current_user.username, ip=request.remote_addr,
                 target=req.filename, detail=req.describe())
    db.commit()
    return jsonify({"url": f"{request.script_root}/admin/api/export/{token}",
                    "expires_at": expires.isoformat(), "filename": req.filename})


@bp.get("/export/<token>")
def download_export(token: str):
    """Stream the file of a valid link; 403 altered or someone else's, 410 expired."""
    db = database.get_session()
    try:
        req = export.verify(token, current_app.config["SECRET_KEY"], _ttl(), current_user.id)
    except export.LinkExpired as exc:
        return _refused(db, 410, str(exc), "link_expired", "expired")
    except export.LinkNotYours as exc:
        return _refused(db, 403, str(exc), "not_your_link", "denied")
    except export.LinkInvalid as exc:
        return _refused(db, 403, str(exc), "invalid_link", "invalid")
    audit.record(db, "export.download", actor=current_user.username, ip=request.remote_addr,
                 target=req.filename, detail=req.describe())
    db.commit()
    factory = database.state().session_factory
    chunks, length = export.stream(factory, req)
    resp = Response(chunks, mimetype=req.mimetype, direct_passthrough=True)
    resp.headers["Content-Disposition"] = f'attachment; filename="{req.filename}"'
    if length is not None:
        resp.headers["Content-Length"] = str(length)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _refused(db, status: int, message: str, code: str, outcome: str):
    audit.record(db, "export.download", actor=current_user.username, ip=request.remote_addr,
                 outcome=outcome, target=request.path[:80])
    db.commit()
    return json_error(status, message, code)
