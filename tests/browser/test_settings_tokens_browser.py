"""The Settings page's API tokens in a real Chromium: create (shown once), use from a script with
no cookie, see it used, revoke it, and the server's reason shown for a bad form."""
from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import eventually, plain_panel, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    yield from plain_panel(tmp_path_factory, "tokens")


def test_create_use_and_revoke_a_token(watched, panel):
    page = watched.page
    watched.goto("/admin/settings")
    page.wait_for_selector("#tokens tbody td")
    form = page.locator("#token-form")
    form.locator("input[name=name]").fill("")
    form.get_by_role("button", name="Create token").click()
    page.locator("#token-error", has_text="name").wait_for()
    # The browser logs the refused call (400) it was meant to get; nothing else may be logged.
    assert all("400" in e for e in watched.errors)
    watched.errors.clear()

    form.locator("input[name=name]").fill("nightly maintenance")
    form.locator("select[name=scope]").select_option("read-write")
    form.get_by_role("button", name="Create token").click()
    page.locator("#token-secret").wait_for()
    secret = page.locator("#token-secret-value").inner_text().strip()
    assert secret.startswith("adm_")
    row = page.locator("#tokens tbody tr", has_text="nightly maintenance")
    row.wait_for()
    assert "read-write" in row.inner_text() and "never" in row.inner_text() and secret not in row.inner_text()

    # A script: no cookie, no CSRF token, just the bearer header.
    answer = requests.get(f"{panel.url}/admin/api/alerts", headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert answer.status_code == 200 and "alerts" in answer.json()
    page.reload()
    eventually(lambda: "never" not in page.locator("#tokens tbody tr", has_text="nightly maintenance").inner_text(),
               "the token's last use is not shown")
    shot(page, "settings-tokens")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#tokens tbody tr", has_text="nightly maintenance").get_by_role("button", name="Revoke").click()
    page.locator("#tokens tbody tr[data-state=revoked]", has_text="nightly maintenance").wait_for()
    refused = requests.get(f"{panel.url}/admin/api/alerts", headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert refused.status_code == 401
    watched.assert_clean()
