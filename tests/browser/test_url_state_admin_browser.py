"""Notifications, Maintenance and Audit keep their view in the address, in a real Chromium: the
URL copied from one browser context, opened in a new one, shows the same rows and choices; back
restores the view before the last choice; values the page does not offer fall back to defaults."""
from __future__ import annotations

import pytest

from tests.browser.conftest import USER, eventually, plain_panel, url_query

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

# Adds maintenance windows through the API as the signed-in admin (each one is audited).
ADD_WINDOWS = """async (windows) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const ids = [];
  for (const w of windows) {
    const r = await fetch('/admin/api/maintenance', {method: 'POST', headers: {'Content-Type': 'application/json',
      'X-CSRFToken': csrf}, body: JSON.stringify(w)});
    if (r.status !== 201) throw new Error(`window ${w.name}: ${r.status} ${await r.text()}`);
    ids.push((await r.json()).window.id);
  }
  return ids;
}"""
START = """async (id) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const r = await fetch(`/admin/api/maintenance/${id}/start`, {method: 'POST', headers: {'Content-Type': 'application/json',
    'X-CSRFToken': csrf}, body: JSON.stringify({confirm: true})});
  return r.status;
}"""
EXPORT = """async () => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const r = await fetch('/admin/api/export', {method: 'POST', headers: {'Content-Type': 'application/json',
    'X-CSRFToken': csrf}, body: JSON.stringify({data_type: 'logs', format: 'csv'})});
  return r.status;
}"""
ROW_NAMES = "() => [...document.querySelectorAll('#windows tbody tr[data-window]')].map(r => r.dataset.window)"
AUDIT_TARGETS = "() => [...document.querySelectorAll('#audit-table tbody tr')].map(r => r.cells[4] && r.cells[4].textContent)"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    yield from plain_panel(tmp_path_factory, "urladmin")


@pytest.fixture(scope="module")
def windows(panel, chromium, login_state):
    """Three named windows (one started) and 105 more, so the audit trail has 108 creations: two pages."""
    context = chromium.new_context(storage_state=login_state)
    page = context.new_page()
    page.goto(f"{panel.url}/admin/maintenance")
    named = page.evaluate(ADD_WINDOWS, [{"name": "deploy api", "kind": "manual"},
                                        {"name": "deploy web", "kind": "manual"},
                                        {"name": "nightly backup", "kind": "recurring", "rrule": "FREQ=DAILY",
                                         "dtstart": "2026-01-01T02:00", "duration_minutes": 30, "timezone": "UTC"}])
    assert page.evaluate(START, named[0]) == 200
    bulk = page.evaluate(ADD_WINDOWS, [{"name": f"bulk {i:03d}", "kind": "manual"} for i in range(105)])
    context.close()
    return {"named": named, "bulk": bulk}


def test_maintenance_filters_travel_in_their_link(new_context, windows):
    first = new_context()
    page = first.page
    first.goto("/admin/maintenance")
    eventually(lambda: len(page.evaluate(ROW_NAMES)) == 108, lambda: page.evaluate(ROW_NAMES)[:5])
    page.fill("#window-filters input[name=q]", "Deploy")
    page.click("#window-filters button[type=submit]")
    eventually(lambda: page.evaluate(ROW_NAMES) == ["deploy api", "deploy web"], lambda: page.evaluate(ROW_NAMES))
    page.select_option("#window-filters select[name=state]", "active")
    eventually(lambda: page.evaluate(ROW_NAMES) == ["deploy api"], lambda: page.evaluate(ROW_NAMES))
    assert url_query(page) == {"q": "Deploy", "state": "active"}

    second = new_context()
    s = second.page
    s.goto(page.url)
    eventually(lambda: s.evaluate(ROW_NAMES) == ["deploy api"], lambda: s.evaluate(ROW_NAMES))
    assert (s.input_value("#window-filters input[name=q]"), s.input_value("#window-filters select[name=state]")) == \
        ("Deploy", "active")
    assert s.get_attribute("#windows tbody tr[data-window='deploy api']", "data-active") == "true"
    # Back: both deploy windows, then every window.
    page.go_back()
    eventually(lambda: page.evaluate(ROW_NAMES) == ["deploy api", "deploy web"], "back did not restore the name filter")
    assert page.input_value("#window-filters select[name=state]") == ""
    page.go_back()
    eventually(lambda: len(page.evaluate(ROW_NAMES)) == 108, "back did not restore every window")
    page.go_forward()
    eventually(lambda: page.evaluate(ROW_NAMES) == ["deploy api", "deploy web"], "forward did not filter again")
    # Values the form does not offer: every window, no error.
    third = new_context()
    t = third.page
    t.goto(f"{first.base_url}/admin/maintenance?kind=weekly&state=%00&q=")
    eventually(lambda: len(t.evaluate(ROW_NAMES)) == 108, lambda: t.evaluate(ROW_NAMES)[:5])
    assert (t.input_value("#window-filters select[name=kind]"), t.input_value("#window-filters select[name=state]")) == ("", "")
    for w in (first, second, third):
        w.assert_clean()


def test_audit_filters_and_pages_travel_in_their_link(new_context, windows):
    first = new_context()
    page = first.page
    first.goto("/admin/audit")
    page.wait_for_selector("#audit-table tbody tr:not(.empty-row)")
    page.fill("#a-action", "maintenance.create")
    page.fill("#a-actor", USER)
    page.click("#audit-filters button[type=submit]")
    created = [f"maintenance:{i}" for i in windows["named"] + windows["bulk"]]
    newest_first = created[::-1]
    eventually(lambda: page.evaluate(AUDIT_TARGETS) == newest_first[:100], lambda: page.evaluate(AUDIT_TARGETS)[:3])
    assert page.is_visible("#audit-older")
    assert url_query(page) == {"action": "maintenance.create", "actor": USER}
    page.click("#audit-older")
    eventually(lambda: page.evaluate(AUDIT_TARGETS) == newest_first, lambda: len(page.evaluate(AUDIT_TARGETS)))
    eventually(lambda: url_query(page).get("pages") == "2", lambda: page.url)

    second = new_context()
    s = second.page
    s.goto(page.url)
    # The pasted link shows the same 108 entries, the older page included, and the same filters.
    eventually(lambda: s.evaluate(AUDIT_TARGETS) == newest_first, lambda: len(s.evaluate(AUDIT_TARGETS)))
    assert (s.input_value("#a-action"), s.input_value("#a-actor"), s.input_value("#a-outcome")) == \
        ("maintenance.create", USER, "")
    assert s.is_hidden("#audit-older")
    # Back: the trail before the filters, with the export asked for meanwhile on top.
    assert page.evaluate(EXPORT) == 200
    page.go_back()
    eventually(lambda: page.input_value("#a-action") == "", "back did not clear the filter")
    unfiltered = page.request.get(f"{first.base_url}/admin/api/audit?limit=100").json()["entries"]
    assert unfiltered[0]["action"] == "export.create"
    eventually(lambda: page.evaluate(AUDIT_TARGETS) == [e["target"] or "—" for e in unfiltered],
               lambda: page.evaluate(AUDIT_TARGETS)[:3])
    assert url_query(page) == {}
    # Nonsense in the address falls back to no filter and one page.
    third = new_context()
    t = third.page
    t.goto(f"{first.base_url}/admin/audit?outcome=maybe&since=yesterday&pages=-3&action=maintenance.create")
    eventually(lambda: t.evaluate(AUDIT_TARGETS) == newest_first[:100], lambda: len(t.evaluate(AUDIT_TARGETS)))
    assert (t.input_value("#a-outcome"), t.input_value("#a-since")) == ("", "")
    for w in (first, second, third):
        w.assert_clean()


def test_routing_preview_travels_in_its_link(new_context, windows):
    first = new_context()
    page = first.page
    first.goto("/admin/notifications")
    page.wait_for_selector("#policies tbody tr[data-policy=default]")
    page.evaluate("""async () => {
      const csrf = document.querySelector('meta[name="csrf-token"]').content;
      const r = await fetch('/admin/api/notification-policies', {method: 'POST', headers: {'Content-Type': 'application/json',
        'X-CSRFToken': csrf}, body: JSON.stringify({name: 'DB team', matchers: [{label: 'team', op: '=', value: 'db'}],
        contact_points: ['webhook']})});
      if (r.status !== 201) throw new Error(await r.text());
    }""")
    page.fill("#preview-form input[name=labels]", "team=db, dc=eu")
    page.select_option("#preview-form select[name=severity]", "critical")
    page.click("#preview-form button[type=submit]")
    page.locator("#preview-result", has_text="DB team → webhook").wait_for()
    assert url_query(page) == {"labels": "team=db, dc=eu", "severity": "critical"}
    page.fill("#preview-form input[name=labels]", "team=web")
    page.click("#preview-form button[type=submit]")
    page.locator("#preview-result", has_text="default →").wait_for()

    second = new_context()
    s = second.page
    s.goto(page.url)
    s.locator("#preview-result", has_text="default →").wait_for()
    assert (s.input_value("#preview-form input[name=labels]"), s.input_value("#preview-form select[name=severity]")) == \
        ("team=web", "critical")
    page.go_back()
    page.locator("#preview-result", has_text="DB team → webhook").wait_for()
    assert page.input_value("#preview-form input[name=labels]") == "team=db, dc=eu"
    third = new_context()
    t = third.page
    t.goto(f"{first.base_url}/admin/notifications?labels=nonsense&severity=loud")
    t.locator("#preview-result", has_text="default →").wait_for()
    assert (t.input_value("#preview-form input[name=labels]"), t.input_value("#preview-form select[name=severity]")) == \
        ("", "warning")
    for w in (first, second, third):
        w.assert_clean()
