"""Refused API tokens are counted per client address: past API_TOKEN_FAIL_LIMIT that address gets
429 JSON with Retry-After (even with a good token), audited once per window; other addresses and
browser sessions are untouched."""
from __future__ import annotations

from tests.conftest import ADMIN
from tests.test_api_tokens import audit_rows, bearer, make_token

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
SCRIPT = {"REMOTE_ADDR": "198.51.100.7"}


def test_repeated_bad_tokens_are_refused_with_429_per_address(make_app):
    app = make_app(API_TOKEN_FAIL_LIMIT="3 per minute", RATELIMIT_STORAGE_URI="memory://")
    admin = app.test_client()
    assert admin.login(*ADMIN).status_code == 302
    admin.fetch_csrf("/admin/dashboard")
    _, secret = make_token(admin)
    guesser, script = app.test_client(), app.test_client()
    for i in range(3):
        resp = guesser.get("/admin/api/alerts", headers=bearer(f"adm_guess{i}"), environ_base=ATTACKER)
        assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "invalid_token"
    for attempt in (bearer("adm_guess9"), bearer(secret), bearer("adm_guess10")):
        refused = guesser.get("/admin/api/alerts", headers=attempt, environ_base=ATTACKER)
        assert refused.status_code == 429, refused.get_data(as_text=True)
        error = refused.get_json()["error"]
        assert error["code"] == "too_many_attempts" and 1 <= error["retry_after"] <= 61
        assert refused.headers["Retry-After"] == str(error["retry_after"])
    # Another address with the good token, and the admin's browser session, go on working.
    assert script.get("/admin/api/alerts", headers=bearer(secret), environ_base=SCRIPT).status_code == 200
    assert admin.get("/admin/api/alerts").status_code == 200
    uses = audit_rows(app, "api_token.use")
    reasons = [detail["reason"] for _, outcome, detail in uses if outcome == "failure"]
    assert reasons == ["unknown token"] * 3 + ["too many refused tokens from this address"]
