"""The Notifications and Maintenance pages in a real Chromium, against a server whose contact
points are real local receivers: add a contact point, test it, route team=ml to it, see where an
alert would go, and start/stop a maintenance window; refusals show the server's reason."""
from __future__ import annotations

import pytest

from tests.browser.conftest import plain_panel, shot
from tests.receivers import Webhook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def hooks():
    default, ml = Webhook(), Webhook()
    yield default, ml
    default.close()
    ml.close()


@pytest.fixture(scope="module")
def panel(tmp_path_factory, hooks):
    yield from plain_panel(tmp_path_factory, "routing", {"ALERT_WEBHOOK_URL": hooks[0].url})


def expect_refusal(watched):
    # The browser logs the refused call (400) the test asked for; nothing else may be logged.
    assert watched.errors and all("400" in e for e in watched.errors)
    watched.errors.clear()


def test_contact_point_policy_and_preview(watched, hooks):
    _, ml = hooks
    page = watched.page
    watched.goto("/admin/notifications")
    page.wait_for_selector("#points tbody tr[data-point=webhook]")
    form = page.locator("#point-form")
    form.locator("input[name=name]").fill("ML chat")
    form.locator("input[name=target]").fill("ftp://nope")
    form.get_by_role("button", name="Add contact point").click()
    page.locator("#point-error", has_text="url must be an http").wait_for()
    expect_refusal(watched)
    form.locator("input[name=target]").fill(ml.url)
    form.get_by_role("button", name="Add contact point").click()
    row = page.locator("#points tbody tr[data-point='ML chat']")
    row.wait_for()
    row.get_by_role("button", name="Send test").click()
    row.locator(".chan-result", has_text="Test delivered").wait_for()
    assert [b["event"] for b in ml.bodies] == ["test"]
    row.get_by_text("last test delivered", exact=False).wait_for()

    policy = page.locator("#policy-form")
    policy.locator("input[name=name]").fill("ML team")
    policy.locator("input[name=matchers]").fill("team=ml")
    policy.locator("input[name=contact_points]").fill("ML chat")
    policy.get_by_role("button", name="Add policy").click()
    page.locator("#policies tbody tr[data-policy='ML team']").wait_for()

    preview = page.locator("#preview-form")
    preview.locator("input[name=labels]").fill("team=ml")
    preview.get_by_role("button", name="Show").click()
    page.locator("#preview-result", has_text="ML team → cp:").wait_for()
    preview.locator("input[name=labels]").fill("team=web")
    preview.get_by_role("button", name="Show").click()
    page.locator("#preview-result", has_text="default → webhook").wait_for()
    shot(page, "notifications")
    watched.assert_clean()


def test_maintenance_window_starts_and_stops(watched):
    page = watched.page
    watched.goto("/admin/maintenance")
    page.wait_for_selector("#windows tbody td")
    form = page.locator("#window-form")
    form.locator("input[name=name]").fill("deploy")
    form.locator("input[name=matchers]").fill("service=api")
    form.get_by_role("button", name="Add window").click()
    row = page.locator("#windows tbody tr[data-window=deploy]")
    row.wait_for()
    assert row.get_attribute("data-active") == "false"
    # Started without an end, it mutes for longer than MAINTENANCE_CONFIRM_HOURS: the page asks first.
    # The dialog is answered by a handler set before the click: with a listener waiting for it
    # instead, an open dialog blocks the click, which then times out under load.
    asked = []

    def answer(accept):
        def handle(dialog):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()
        return handle

    def click_and_answer(accept):
        # The page asks after a round trip; events are delivered while Playwright waits.
        seen = len(asked)
        page.once("dialog", answer(accept))
        row.get_by_role("button", name="Start").click()
        for _ in range(200):
            if len(asked) > seen:
                return
            page.wait_for_timeout(50)
        raise AssertionError("the page did not ask before starting the window")

    click_and_answer(False)
    assert len(asked) == 1 and "has no end" in asked[0]
    page.wait_for_timeout(300)
    assert row.get_attribute("data-active") == "false"
    click_and_answer(True)
    page.locator("#windows tbody tr[data-window=deploy][data-active=true]", has_text="until stopped").wait_for()
    shot(page, "maintenance")
    # A script raises an alert for the service under maintenance: it shows on the Alerts page, muted.
    status = page.evaluate("""async () => {
      const csrf = document.querySelector('meta[name="csrf-token"]').content;
      const r = await fetch('/admin/api/alerts/external', {method: 'POST', headers: {'Content-Type': 'application/json',
        'X-CSRFToken': csrf}, body: JSON.stringify({key: 'api-5xx', status: 'firing', title: 'API answers 5xx',
        severity: 'critical', labels: {service: 'api'}})});
      return r.status;
    }""")
    assert status == 200
    watched.goto("/admin/alerts")
    muted_row = page.locator("#open-alerts tbody tr", has_text="API answers 5xx")
    muted_row.locator(".muted-tag", has_text="muted: deploy").wait_for()
    watched.goto("/admin/maintenance")
    covered = page.locator("#covered tbody tr", has_text="API answers 5xx")
    covered.wait_for()
    assert covered.locator("td").all_inner_texts()[2:] == ["deploy", "until stopped"]
    page.locator("#windows tbody tr[data-window=deploy]").get_by_role("button", name="Stop").click()
    page.locator("#windows tbody tr[data-window=deploy][data-active=false]").wait_for()
    watched.goto("/admin/alerts")
    open_row = page.locator("#open-alerts tbody tr", has_text="API answers 5xx")
    open_row.wait_for()
    assert open_row.locator(".muted-tag").count() == 0
    watched.goto("/admin/maintenance")
    page.wait_for_selector("#windows tbody tr[data-window=deploy]")

    form.locator("input[name=name]").fill("bad")
    form.locator("select[name=kind]").select_option("recurring")
    form.locator("input[name=rrule]").fill("FREQ=MINUTELY")
    form.locator("input[name=dtstart]").fill("2026-03-02T09:00")
    form.locator("input[name=duration_minutes]").fill("30")
    form.get_by_role("button", name="Add window").click()
    page.locator("#window-error", has_text="MINUTELY rule needs COUNT or UNTIL").wait_for()
    # The browser also logged the two 409s that asked for confirmation before the start.
    assert sum("409" in e for e in watched.errors) == 2
    watched.errors[:] = [e for e in watched.errors if "409" not in e]
    expect_refusal(watched)
    form.locator("input[name=name]").fill("patch monday")
    form.locator("input[name=rrule]").fill("FREQ=WEEKLY;BYDAY=MO")
    form.locator("input[name=timezone]").fill("Europe/Berlin")
    form.locator("select[name=mode]").select_option("suppress")
    form.get_by_role("button", name="Add window").click()
    weekly = page.locator("#windows tbody tr[data-window='patch monday']")
    weekly.wait_for()
    assert "FREQ=WEEKLY;BYDAY=MO from 2026-03-02 09:00 for 30 min (Europe/Berlin); next" in weekly.inner_text()
    assert "does not open alerts" in weekly.inner_text()
    watched.assert_clean()


def test_alerts_page_shows_labels_summary_and_runbook_link(watched):
    page = watched.page
    watched.goto("/admin/alerts")
    status = page.evaluate("""async () => {
      const csrf = document.querySelector('meta[name="csrf-token"]').content;
      const r = await fetch('/admin/api/alerts/external', {method: 'POST', headers: {'Content-Type': 'application/json',
        'X-CSRFToken': csrf}, body: JSON.stringify({key: 'gpu-oom', status: 'firing', title: 'Trainer out of GPU memory',
        severity: 'info', labels: {team: 'ml', service: 'trainer'},
        annotations: {summary: 'Batch size too large', runbook_url: 'https://runbooks.example.com/gpu'}})});
      return r.status;
    }""")
    assert status == 200
    page.reload()
    row = page.locator("#open-alerts tbody tr", has_text="Trainer out of GPU memory")
    row.wait_for()
    assert row.locator(".sev-info").inner_text() == "info"
    assert row.locator(".label-chip").all_inner_texts() == ["service=trainer", "team=ml"]
    assert "Batch size too large" in row.inner_text()
    assert row.get_by_role("link", name="Runbook").get_attribute("href") == "https://runbooks.example.com/gpu"
    row.get_by_role("button", name="Details").click()
    dialog = page.locator("#detail-dialog")
    dialog.get_by_role("link", name="Runbook").wait_for()
    assert dialog.get_by_role("link", name="Runbook").get_attribute("href") == "https://runbooks.example.com/gpu"
    shot(page, "alerts-labels")
    watched.assert_clean()


def _policies(page):
    return page.evaluate("""async () => (await (await fetch('/admin/api/notification-policies')).json()).policies""")


def test_policies_and_inhibition_rules_are_edited_and_reordered_on_the_page(watched):
    page = watched.page
    watched.goto("/admin/notifications")
    page.wait_for_selector("#policies tbody tr[data-policy=default]")
    form = page.locator("#policy-form")
    for name, matchers in (("Platform first", "team=platform"), ("Data second", "team=data")):
        form.locator("input[name=name]").fill(name)
        form.locator("input[name=matchers]").fill(matchers)
        form.get_by_role("button", name="Add policy").click()
        page.locator(f"#policies tbody tr[data-policy='{name}']").wait_for()
    names = lambda: [r.get_attribute("data-policy") for r in page.locator("#policies tbody tr").all()]  # noqa: E731
    before = names()
    assert before.index("Platform first") + 1 == before.index("Data second")

    page.get_by_role("button", name="Move Data second up").click()
    page.wait_for_function("""() => { const rows = [...document.querySelectorAll('#policies tbody tr')]
      .map(r => r.dataset.policy); return rows.indexOf('Data second') < rows.indexOf('Platform first'); }""")
    stored = {p["name"]: p["position"] for p in _policies(page)}
    assert stored["Data second"] < stored["Platform first"]  # the server keeps the new order

    row = page.locator("#policies tbody tr[data-policy='Data second']")
    row.get_by_role("button", name="Edit").click()
    assert form.locator("input[name=matchers]").input_value() == "team=data"
    form.locator("input[name=matchers]").fill("team=data, severity=critical")
    form.locator("input[name=repeat_interval]").fill("600")
    form.get_by_role("button", name="Save changes").click()
    page.locator("#policies tbody tr[data-policy='Data second']", has_text="severity=critical").wait_for()
    edited = next(p for p in _policies(page) if p["name"] == "Data second")
    assert edited["matchers"][1] == {"label": "severity", "op": "=", "value": "critical"}
    assert edited["repeat_interval"] == 600 and edited["position"] == stored["Data second"]
    assert form.get_by_role("button", name="Add policy").is_visible()  # the form adds again

    inhibit = page.locator("#inhibition-form")
    inhibit.locator("input[name=name]").fill("dc down")
    inhibit.locator("input[name=source]").fill("alertname=dc-down")
    inhibit.locator("input[name=target]").fill("severity=warning")
    inhibit.get_by_role("button", name="Add rule").click()
    rule_row = page.locator("#inhibitions tbody tr[data-rule='dc down']")
    rule_row.wait_for()
    rule_row.get_by_role("button", name="Edit").click()
    inhibit.locator("input[name=equal]").fill("dc, region")
    inhibit.locator("input[name=target]").fill("x=~(")
    inhibit.get_by_role("button", name="Save changes").click()
    page.locator("#inhibition-error", has_text="target_matchers").wait_for()
    expect_refusal(watched)
    inhibit.locator("input[name=target]").fill("severity=~warning|info")
    inhibit.get_by_role("button", name="Save changes").click()
    page.locator("#inhibitions tbody tr[data-rule='dc down']", has_text="dc, region").wait_for()
    rules = page.evaluate("""async () => (await (await fetch('/admin/api/inhibition-rules')).json()).rules""")
    assert [(r["name"], r["equal"], r["target_matchers"][0]["op"]) for r in rules] == [("dc down", ["dc", "region"], "=~")]
    shot(page, "notifications-edit")
    watched.assert_clean()


def test_the_default_webhook_is_edited_on_the_page_and_follows_the_settings_again(watched, hooks):
    default, ml = hooks
    page = watched.page
    watched.goto("/admin/notifications")
    row = page.locator("#points tbody tr[data-point=webhook]")
    row.get_by_text("(from the settings)").wait_for()
    row.get_by_role("button", name="Edit").click()
    form = page.locator("#point-form")
    assert form.locator("input[name=name]").input_value() == "webhook"
    assert form.locator("input[name=name]").get_attribute("readonly") is not None
    form.locator("input[name=target]").fill(ml.url)
    form.get_by_role("button", name="Save changes").click()
    row.get_by_text("(default, edited here)").wait_for()
    sent = len(ml.bodies)
    row.get_by_role("button", name="Send test").click()
    row.locator(".chan-result", has_text="Test delivered").wait_for()
    assert len(ml.bodies) == sent + 1 and ml.bodies[-1]["event"] == "test"

    before = len(default.bodies)
    row.get_by_role("button", name="Follow the settings").click()
    row.get_by_text("(from the settings)").wait_for()
    row.get_by_role("button", name="Send test").click()
    row.locator(".chan-result", has_text="Test delivered").wait_for()
    assert len(default.bodies) == before + 1 and len(ml.bodies) == sent + 1
    watched.assert_clean()
