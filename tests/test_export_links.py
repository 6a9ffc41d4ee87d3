"""Export links: expiry on a fake clock, tampering, someone else's link, and the audit trail."""
from __future__ import annotations

import pytest
from sqlalchemy import select

import database
from services.accounts import AuditLog
from services.export import links as export
from services.accounts import users


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(export, "clock", fake)
    return fake


def _create(c, **body):
    resp = c.api("POST", "/admin/api/export", json={"data_type": "logs", "format": "csv", **body})
    assert resp.status_code == 200, resp.json
    return resp.json


def _audit(app, action):
    with database.session_scope(app) as s:
        return [(a.actor, a.outcome, a.target) for a in
                s.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))]


def test_link_works_until_ttl_then_410(app, admin_client, clock):
    app.config["EXPORT_LINK_TTL"] = 600
    body = _create(admin_client)
    assert body["expires_at"] == "2027-01-15T08:10:00+00:00"  # 1_800_000_000 + 600 s
    clock.now += 599
    assert admin_client.get(body["url"]).status_code == 200
    clock.now += 2
    resp = admin_client.get(body["url"])
    assert resp.status_code == 410
    assert resp.json["error"]["code"] == "link_expired"


def test_tampered_link_is_403(app, admin_client, clock):
    url = _create(admin_client)["url"]
    token = url.rsplit("/", 1)[1]
    # Change one character of the signed data (the token may start with "." when compressed).
    i = len(token) // 3
    flipped = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
    for bad in (flipped, token[:-2] + ("xx" if token[-2:] != "xx" else "yy"), "nonsense"):
        resp = admin_client.get(f"/admin/api/export/{bad}")
        assert resp.status_code == 403, bad
        assert resp.is_json and resp.json["error"]["code"] == "invalid_link"


def test_link_signed_with_another_salt_or_key_is_refused(app, admin_client, clock):
    from itsdangerous import URLSafeTimedSerializer

    good = _create(admin_client)["url"].rsplit("/", 1)[1]
    payload = URLSafeTimedSerializer(app.config["SECRET_KEY"]).loads(good, salt=export.LINK_SALT)
    other_salt = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="something-else").dumps(payload)
    other_key = URLSafeTimedSerializer("not-our-key", salt=export.LINK_SALT).dumps(payload)
    for token in (other_salt, other_key):
        assert admin_client.get(f"/admin/api/export/{token}").status_code == 403


def test_someone_elses_link_is_403(app, admin_client, clock):
    with database.session_scope(app) as s:
        users.create_user(s, "second", "second-password", "admin", "pbkdf2:sha256:1000")
    url = _create(admin_client)["url"]
    other = app.test_client()
    assert other.login("second", "second-password").status_code == 302
    resp = other.get(url)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "not_your_link"
    # A viewer who got the link is refused too.
    viewer = app.test_client()
    viewer.login("viewer", "viewer-password-1")
    assert viewer.get(url).status_code == 403
    assert admin_client.get(url).status_code == 200


def test_create_and_download_are_audited(app, admin_client, clock):
    body = _create(admin_client, start="2026-11-01T00:00:00Z", end="2026-11-21T00:00:00Z")
    assert body["filename"] == "logs_2026-11-01_2026-11-20.csv"  # to November 20 inclusive
    admin_client.get(body["url"])
    clock.now += 10_000
    admin_client.get(body["url"])
    assert _audit(app, "export.create") == [("admin", "success", "logs_2026-11-01_2026-11-20.csv")]
    downloads = _audit(app, "export.download")
    assert [(a, o) for a, o, _ in downloads] == [("admin", "success"), ("admin", "expired")]
    assert downloads[0][2] == "logs_2026-11-01_2026-11-20.csv"
