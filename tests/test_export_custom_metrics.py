"""Export of pushed metrics: per-minute rollups of the range, in every format, equal to the query API."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

import database
from services import metrics
from tests.test_export import parse

POINTS = [  # (name, labels, seconds after the first minute, value)
    ("queue_depth", {"queue": "mail"}, 5, 4.0), ("queue_depth", {"queue": "mail"}, 40, 10.0),
    ("queue_depth", {"queue": "mail"}, 65, 7.5), ("queue_depth", {"queue": "pay"}, 10, 3.0),
    ("model_accuracy", {"model": "rec-v3", "zone": "eu"}, 20, 0.875),
    ("model_accuracy", {"model": "rec-v3", "zone": "eu"}, 21, 0.625),
]


@pytest.mark.parametrize("form", ["csv", "json", "xlsx"])
def test_exported_minutes_equal_the_rollups_and_the_query_api(app, admin_client, form):
    now = database.utcnow()
    first = now.replace(second=0, microsecond=0) - timedelta(minutes=10)
    with database.session_scope(app) as session:
        metrics.ingest_json(session, {"metrics": [
            {"name": n, "labels": lab, "value": v, "timestamp": (first + timedelta(seconds=sec)).isoformat()}
            for n, lab, sec, v in POINTS]}, app.config, now)
    start, end = (first - timedelta(minutes=1)).isoformat(), (first + timedelta(minutes=3)).isoformat()
    resp = admin_client.api("POST", "/admin/api/export", json={
        "data_type": "custom_metrics", "format": form, "start": start, "end": end})
    assert resp.status_code == 200, resp.json
    got = admin_client.get(resp.json["url"])
    assert got.status_code == 200
    rows = [{k: (v.value if form == "xlsx" else v) for k, v in r.items()} for r in parse(got.get_data(), form)]
    assert list(rows[0]) == ["name", "labels", "minute", "count", "sum", "min", "max", "last"]

    exported = {}
    for r in rows:
        minute = r["minute"] if form != "xlsx" else r["minute"].isoformat() + "+00:00"
        key = (r["name"], r["labels"], datetime.fromisoformat(minute))
        exported[key] = tuple(float(r[c]) for c in ("count", "sum", "min", "max", "last"))
    assert len(exported) == len(rows) == 4  # mail: 2 minutes; pay: 1; accuracy: 1

    # The same figures through the query API, one minute per step.
    expected = {}
    for name in ("queue_depth", "model_accuracy"):
        for agg in ("count", "sum", "min", "max", "last"):
            body = admin_client.get("/admin/api/metrics/query", query_string={
                "name": name, "agg": agg, "step": "1m", "start": start, "end": end}).get_json()
            for s in body["series"]:
                labels = json.dumps(s["labels"], sort_keys=True, ensure_ascii=False)
                for at, value in s["points"]:
                    key = (name, labels, datetime.fromisoformat(at))
                    expected.setdefault(key, {})[agg] = value
    assert exported == {k: tuple(float(v[a]) for a in ("count", "sum", "min", "max", "last"))
                        for k, v in expected.items()}
    mail = exported[("queue_depth", '{"queue": "mail"}', first)]
    assert mail == (2.0, 14.0, 4.0, 10.0, 10.0)  # the two points pushed in that minute
