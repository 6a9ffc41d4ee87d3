"""Any body a sender might push to /api/v1/metrics is stored whole (202, the counts as sent) or
refused whole (4xx naming what was wrong, nothing stored); never a 5xx."""
from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.metrics_helpers import INGEST, counts

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
NASTY = ["\x00", "\udfff", "ısd", "\u212a", "²", "a b", "__name", "le", "1e400", "NaN", "9" * 300]
texts = st.one_of(st.text(max_size=20), st.sampled_from(NASTY))
scalars = st.one_of(texts, st.integers(min_value=-(10**30), max_value=10**30), st.booleans(), st.none(),
                    st.floats(allow_nan=False, allow_infinity=False))
names = st.one_of(st.from_regex(r"[a-z_][a-z0-9_]{0,15}", fullmatch=True), texts)
labels = st.one_of(st.dictionaries(st.one_of(st.from_regex(r"[a-z]{1,5}", fullmatch=True), texts),
                                   st.one_of(texts, scalars), max_size=12), scalars)
items = st.fixed_dictionaries(
    {"name": names, "value": st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32), scalars)},
    optional={"type": st.sampled_from(["gauge", "counter", "summary", 1]), "labels": labels,
              "unit": st.one_of(st.sampled_from(["ms", "%", "a b"]), scalars),
              "timestamp": st.one_of(st.integers(min_value=0, max_value=2 * 10**9), texts),
              "stray": scalars})
bodies = st.one_of(st.fixed_dictionaries({"metrics": st.lists(items, max_size=4)}),
                   st.dictionaries(st.sampled_from(["metrics", "other"]), scalars, max_size=2),
                   scalars)


@pytest.mark.timeout(300)
def test_any_body_is_stored_whole_or_refused_whole(app, client):
    @settings(max_examples=EXAMPLES * 3, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(body=bodies)
    def check(body):
        before = counts(app)
        resp = client.post("/api/v1/metrics", data=json.dumps(body), headers=INGEST,
                           content_type="application/json")
        assert resp.status_code in (202, 400, 413), (resp.status_code, body)
        after = counts(app)
        if resp.status_code == 202:
            assert resp.get_json()["accepted"]["metrics"] == len(body["metrics"])
            assert after["metric_points"] == before["metric_points"] + len(body["metrics"])
        else:
            assert resp.get_json()["error"]["message"]
            assert after == before, "a refused batch stored something"

    check()


@pytest.mark.timeout(120)
def test_any_text_pushed_as_prometheus_is_stored_or_refused(app, client):
    @settings(max_examples=EXAMPLES * 2, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(text=st.one_of(st.text(max_size=80), st.sampled_from([
        "# TYPE x counter\nx_total 1\n", "x{a=\"1\"} NaN\n", "x 1e400\n", "x{} 1 99999999999999\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 2\n", "x{a=\"\\x00\"} 1\n"])))
    def check(text):
        before = counts(app)
        resp = client.post("/api/v1/metrics/prometheus", data=text.encode("utf-8", "surrogatepass"),
                           headers=INGEST)
        assert resp.status_code in (202, 400, 413), (resp.status_code, text)
        if resp.status_code != 202:
            assert counts(app) == before

    check()
