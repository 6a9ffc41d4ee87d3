"""A rule on a pushed metric created through the Alerts page's own form in a real Chromium."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

RULES = """async () => (await (await fetch("/admin/api/alerts/rules", {credentials: "same-origin"})).json()).rules"""


def test_rule_on_a_catalogue_metric_through_the_form(watched):
    page = watched.page
    watched.goto("/admin/alerts")
    page.wait_for_function("() => document.querySelector('#rules tbody tr[data-rule-id]') !== null")
    page.click("#rule-new")
    form = page.locator("#rule-form")
    form.locator("input[name=name]").fill("Mail queue backing up (browser)")
    form.locator("select[name=metric]").select_option("metric")
    form.locator("input[name='text:name']").fill("queue_depth")
    form.locator("input[name='text:match']").fill('queue="mail"')
    form.locator("input[name='text:reducer']").fill("max")
    form.locator("input[name='param:window_seconds']").fill("600")
    form.locator("input[name=threshold]").fill("50")
    # A bad reducer is refused with the server's reason, the dialog stays open.
    form.locator("input[name='text:reducer']").fill("median")
    form.locator("button[type=submit]").click()
    page.locator("#rule-error", has_text="reducer").wait_for(timeout=10_000)
    form.locator("input[name='text:reducer']").fill("max")
    form.locator("button[type=submit]").click()
    page.locator("#rules tbody tr", has_text="Mail queue backing up (browser)").wait_for(timeout=10_000)
    rule = next(r for r in page.evaluate(RULES) if r["name"] == "Mail queue backing up (browser)")
    assert rule["metric"] == "metric" and rule["threshold"] == 50
    assert rule["params"] == {"name": "queue_depth", "match": 'queue="mail"', "reducer": "max",
                              "window_seconds": 600, "min_count": 0, "no_data": "keep"}
    # The one console error is the refused save above (a 400 the browser logs itself).
    assert not watched.csp_violations()
    assert [e for e in watched.errors if "status of 400" not in e] == []
