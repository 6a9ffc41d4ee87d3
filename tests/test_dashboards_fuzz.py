"""The dashboards operations under the fuzz suite's rules (no 5xx, answers as documented, refusals
in the JSON error shape), plus hostile widget bodies that must be refused whole, storing nothing."""
from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from services.openapi import spec as openapi_spec
from tests.dashboard_helpers import create, widget
from tests.test_fuzz import EXAMPLES, _login, fuzz_operations, server_log, without_security  # noqa: F401

MINE = ("/admin/api/dashboards", "/admin/api/widgets")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_fuzz_dashboard_operations(app, admin_client, server_log, mode):  # noqa: F811
    create(admin_client)  # an id 1 for the generated paths to find
    doc = without_security(openapi_spec.spec_for(app))
    doc["paths"] = {p: item for p, item in doc["paths"].items() if p.startswith(MINE)}
    schema = schemathesis.openapi.from_dict(doc)
    headers, cookies = _login(admin_client)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10  # the home pick included
    failures = fuzz_operations(app, operations, mode, headers, cookies)
    assert not failures, "\n\n".join(failures)


NASTY = ["\x00", "\udfff", "ısd", "\u212a", "²", "9" * 300, "'; DROP TABLE dashboards; --", "1e400", ""]
texts = st.one_of(st.text(max_size=12), st.sampled_from(NASTY))
scalars = st.one_of(texts, st.integers(min_value=-(10**20), max_value=10**20), st.booleans(), st.none(),
                    st.floats(allow_nan=False, allow_infinity=False))
anything = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(texts, inner, max_size=3)),
                        max_leaves=6)
KEYS = ["id", "type", "title", "gridPos", "queries", "options"]


@pytest.mark.timeout(300)
def test_any_widget_body_is_stored_whole_or_refused_whole(app, admin_client, server_log):  # noqa: F811
    @settings(max_examples=EXAMPLES * 2, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(key=st.sampled_from(KEYS + ["queries.0.metric", "queries.0.range", "queries.0.match",
                                       "gridPos.x", "options.thresholds"]), value=anything)
    def check(key, value):
        w = widget()
        target, *rest = key.split(".")
        if not rest:
            w[target] = value
        elif target == "queries":
            w["queries"][0][rest[-1]] = value
        else:
            w.setdefault(target, {})[rest[0]] = value
        before = len(admin_client.get("/admin/api/dashboards").get_json()["dashboards"])
        resp = admin_client.api("POST", "/admin/api/dashboards", data=json.dumps({"title": "f", "widgets": [w]}),
                                content_type="application/json")
        assert resp.status_code in (201, 400), (resp.status_code, key, value)
        after = len(admin_client.get("/admin/api/dashboards").get_json()["dashboards"])
        if resp.status_code == 400:
            assert resp.get_json()["error"]["message"] and after == before
        else:
            assert after == before + 1
            ran = admin_client.api("POST", "/admin/api/widgets/query", json={
                "dashboard": resp.get_json()["dashboard"]["id"]})
            assert ran.status_code == 200, ran.get_json()

    check()
