"""The fuzz run of ``tests/test_fuzz.py`` on the explore operations (customers, orders, drill-down
rows, search) and the ones explore extended (performance, revenue, export), on data that gives them rows."""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode

from services.openapi import spec as openapi_spec
from tests.helpers import INGEST, activity, transaction
from tests.test_fuzz import _login, fuzz_operations, server_log, without_security  # noqa: F401 (fixture)

PREFIXES = ("/admin/api/customers", "/admin/api/orders", "/admin/api/explore", "/admin/api/search",
            "/admin/api/performance", "/admin/api/analytics/revenue", "/admin/api/export")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_fuzz_explore_operations(app, client, admin_client, server_log, mode):  # noqa: F811
    resp = client.post("/api/v1/events", headers=INGEST, json={
        "transactions": [transaction("o1", customer_id="c1"), transaction("o2", currency="EUR", customer_id="c1")],
        "activities": [activity("c1", "login")], "logs": [{"service": "api", "level": "error", "message": "boom o1"}]})
    assert resp.status_code == 202
    doc = without_security(openapi_spec.spec_for(app))
    doc["paths"] = {p: item for p, item in doc["paths"].items() if p.startswith(PREFIXES)}
    operations = [r.ok() for r in schemathesis.openapi.from_dict(doc).get_all_operations()]
    assert len(operations) >= 2
    headers, cookies = _login(admin_client)
    failures = fuzz_operations(app, operations, mode, headers, cookies)
    assert not failures, "\n\n".join(failures)
