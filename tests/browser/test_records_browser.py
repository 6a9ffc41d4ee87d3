"""Logs, exports and audit pages in a real Chromium against a real server.

What an admin notices: HTML inside a log line shows as text and never runs, the live tail
adds matching entries at the bottom and follows them unless the admin scrolled up, an export
downloads with its file name after a progress indicator, and the audit page lists it.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
import requests

from tests.browser.conftest import USER, plain_panel

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]
KEY = "browser-ingest-key"
EVIL = '<img src=x onerror="window.__pwned=1"><b>bold</b> & done'


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """A plain server (no demo traffic, so the log view holds only what the test sends)."""
    yield from plain_panel(tmp_path_factory, "records", {"INGEST_API_KEY": KEY})


def ingest_logs(panel, logs):
    resp = requests.post(f"{panel.url}/api/v1/events", json={"logs": logs},
                         headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert resp.status_code == 202, resp.text


def test_logs_page_renders_html_as_text_and_tails_live(watched, panel):
    ingest_logs(panel, [{"service": "billing", "level": "error", "message": EVIL}] +
                [{"service": "web", "level": "info", "message": f"filler {i}"} for i in range(60)])
    page = watched.page
    watched.goto("/admin/logs")
    page.wait_for_selector("#log-list li")
    messages = page.locator("#log-list .log-msg")
    assert messages.count() == 61
    assert messages.first.text_content() == EVIL  # oldest first: the evil line is at the top
    assert page.locator("#log-list img, #log-list b").count() == 0
    assert page.evaluate("window.__pwned") is None

    # Only errors: the filter reaches the API.
    page.select_option("#f-level", "error")
    page.click("#log-filters button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#log-list li').length === 1")

    page.select_option("#f-level", "")
    page.click("#log-filters button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#log-list li').length === 61")
    page.wait_for_function("() => document.body.dataset.live === 'live'")
    # The tail is on once the server confirms the subscription (logs_status), not when clicked.
    page.evaluate("""() => document.addEventListener('live:logs_status',
        (e) => { window.__tailStatus = e.detail; })""")
    page.click("#live-tail")
    assert page.get_attribute("#live-tail", "aria-pressed") == "true"
    page.wait_for_function("() => window.__tailStatus && window.__tailStatus.subscribed === true")
    ingest_logs(panel, [{"service": "web", "level": "warning", "message": "live one <i>x</i>"}])
    page.wait_for_function("() => document.querySelector('#log-list li:last-child .log-msg')"
                           ".textContent === 'live one <i>x</i>'")
    at_bottom = "() => { const v = document.getElementById('log-view');" \
                " return v.scrollHeight - v.scrollTop - v.clientHeight < 40; }"
    assert page.evaluate(at_bottom), "the view did not follow the newest entry"

    # Scrolled up: new entries arrive but the view stays where the reader is.
    page.evaluate("() => { document.getElementById('log-view').scrollTop = 0; }")
    ingest_logs(panel, [{"service": "web", "level": "warning", "message": "while reading"}])
    page.wait_for_function("() => document.querySelector('#log-list li:last-child .log-msg')"
                           ".textContent === 'while reading'")
    assert page.evaluate("() => document.getElementById('log-view').scrollTop") == 0
    assert page.is_visible("#log-jump")
    page.click("#log-jump")
    assert page.evaluate(at_bottom)
    watched.assert_clean()


def test_export_downloads_with_progress_and_is_audited(watched, panel):
    ingest_logs(panel, [{"service": "export-test", "level": "error", "message": "=SUM(A1:A9)"}])
    page = watched.page
    watched.goto("/admin/exports")
    page.select_option("#x-type", "logs")
    page.select_option("#x-format", "csv")
    with page.expect_download() as info:
        page.click("#x-submit")
        page.wait_for_selector("#x-progress:not([hidden])")
    download = info.value
    assert download.suggested_filename.startswith("logs_") and download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    assert {"service": "export-test", "message": "'=SUM(A1:A9)"}.items() <= \
        next(r for r in rows if r["service"] == "export-test").items()
    page.wait_for_function("() => document.getElementById('x-status').textContent.startsWith('Done')")
    assert page.locator("#x-history tbody tr").count() == 1

    watched.goto("/admin/audit")
    page.wait_for_selector("#audit-table tbody tr:not(.empty-row)")
    page.fill("#a-action", "export")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_function("() => [...document.querySelectorAll('#audit-table tbody tr td:nth-child(4)')]"
                           ".map(td => td.textContent).join(',') === 'export.download,export.create'")
    assert page.locator("#audit-table tbody tr td:nth-child(2)").first.text_content() == USER
    watched.assert_clean()


EXPORT = """async () => {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const resp = await fetch("/admin/api/export", {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
    body: JSON.stringify({data_type: "logs", format: "csv"})});
  return resp.status;
}"""


def test_one_time_format_counted_nouns_and_readable_audit_details(watched, panel):
    page = watched.page
    # A log line stamped with the very instant of the newest audit entry: both pages must write it alike.
    stamp = page.request.get(f"{panel.url}/admin/api/audit?limit=1").json()["entries"][0]["created_at"]
    ingest_logs(panel, [{"service": "format-check", "level": "info", "message": "the one line",
                         "created_at": stamp}])
    watched.goto("/admin/logs")
    page.fill("#f-service", "format-check")
    page.click("#log-filters button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#log-list li').length === 1")
    assert page.inner_text("#log-count") == "1 entry shown"
    log_time = page.inner_text("#log-list .log-time")

    assert page.evaluate(EXPORT) == 200
    watched.goto("/admin/audit")
    page.wait_for_selector("#audit-table tbody time")
    audit_time = page.locator(f'#audit-table time[datetime="{stamp}"]').first.inner_text()
    assert log_time == audit_time and str(datetime.fromisoformat(stamp).year) in log_time

    # The export's detail: key/value lines, times in the same format, no JSON, nothing cut off.
    row = page.locator("#audit-table tbody tr", has_text="export.create").first
    detail = row.locator("td.detail")
    pairs = detail.locator("dl.kv > div").evaluate_all(
        "divs => divs.map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])")
    shown = dict(pairs)
    assert {"data type": "logs", "format": "csv"}.items() <= shown.items()
    assert "T" not in shown["start"] and re.search(r"\d{4}", shown["start"]), shown
    assert "{" not in detail.inner_text()
    assert detail.evaluate("td => [...td.querySelectorAll('*')].every(e => e.scrollWidth <= e.clientWidth + 1)")
    watched.assert_clean()
