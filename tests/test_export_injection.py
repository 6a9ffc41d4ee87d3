"""CSV and Excel exports never hand a spreadsheet a formula (OWASP's CSV injection guidance)."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import openpyxl
import pytest

from services.export import escape_formula
from tests.helpers import INGEST

WHEN = datetime(2026, 11, 3, 10, 0, tzinfo=timezone.utc)
# What a spreadsheet would run (or could be tricked into running), each as a log message.
HOSTILE = [
    "=1+1", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1", "\r=1", " =HYPERLINK(\"http://evil\")",
    "   +1", "\n=1+1", "\r\n@cmd", "＝1+1", "＋1", "－1", "＠SUM(A1)", " ＝1", "﹦1",
    "\u00a0=1", "\u200b=1", "\ufeff=1", "\u2212 1",
]
HARMLESS = ["card declined", "a=b", "1+1", "  spaced", "x@example.com", "'already quoted", "Ärger"]


def test_escape_formula_rule():
    for text in HOSTILE:
        assert escape_formula(text) == "'" + text, repr(text)
    for text in HARMLESS:
        assert escape_formula(text) == text, repr(text)


@pytest.mark.parametrize("form", ["csv", "xlsx", "json"])
def test_exported_cells_are_neutralised(app, admin_client, form):
    messages = HOSTILE + HARMLESS
    logs = [{"service": "web", "level": "INFO", "message": m,
             "created_at": WHEN.replace(second=i).isoformat()} for i, m in enumerate(messages)]
    resp = admin_client.post("/api/v1/events", json={"logs": logs}, headers=INGEST)
    assert resp.status_code == 202, resp.get_json()
    link = admin_client.api("POST", "/admin/api/export", json={
        "data_type": "logs", "format": form, "start": "2026-11-01T00:00:00Z",
        "end": "2026-11-21T00:00:00Z"}).get_json()
    data = admin_client.get(link["url"]).get_data()
    if form == "csv":
        got = [row["message"] for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"),
                                                                    newline=""))]
    elif form == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        rows = list(sheet.iter_rows(values_only=True))
        column = rows[0].index("message")
        # The file stores a carriage return as the escape _x000D_, which Excel reads back as one.
        got = [row[column].replace("_x000D_", "\r") for row in rows[1:]]
    else:
        got = [row["message"] for row in json.loads(data)]
    by_text = {text.lstrip("'") if form != "json" else text: text for text in got}
    for text in HOSTILE:
        # JSON is data, not a spreadsheet: it keeps the text exactly as sent.
        assert by_text[text] == (text if form == "json" else "'" + text), repr(text)
    for text in HARMLESS:
        assert text in got, repr(text)
