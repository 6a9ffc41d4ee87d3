"""The metrics routes answer what the OpenAPI document says, with data in them and on refusals."""
from __future__ import annotations

import database
from services.monitor.models import SystemMetric
from services.openapi import spec as openapi_spec
from tests.metrics_helpers import INGEST, minute_ago, push
from tests.test_openapi import validate


def test_metrics_answers_match_the_schemas(app, client, admin_client):
    doc = openapi_spec.spec_for(app)
    validate(doc, "/api/v1/metrics", "post", push(client, [
        {"name": "queue_depth", "value": 3, "labels": {"queue": "a"}, "unit": "jobs"},
        {"name": "jobs_total", "value": 9, "type": "counter"}]))
    validate(doc, "/api/v1/metrics", "post", push(client, [{"name": "bad name", "value": 1}]))
    validate(doc, "/api/v1/metrics", "post", client.post("/api/v1/metrics", json={"metrics": []}))
    validate(doc, "/api/v1/metrics/prometheus", "post", client.post(
        "/api/v1/metrics/prometheus", data='# TYPE g gauge\ng{a="1"} 2\n', headers=INGEST))
    validate(doc, "/api/v1/metrics/prometheus", "post", client.post(
        "/api/v1/metrics/prometheus", data="{{{", headers=INGEST))
    with database.session_scope(app) as s:
        s.add(SystemMetric(recorded_at=minute_ago(1), host="h", cpu_percent=5, memory_percent=6,
                           disk_percent=7))
    catalog = admin_client.get("/admin/api/metrics/catalog")
    validate(doc, "/admin/api/metrics/catalog", "get", catalog)
    names = {e["name"] for e in catalog.get_json()["series"]}
    assert {"queue_depth", "jobs_total", "g", "cpu_percent", "active_users"} <= names
    start = (minute_ago(5)).isoformat()
    for params in ({"name": "queue_depth"}, {"name": "jobs_total", "agg": "rate", "step": "1m", "start": start},
                   {"name": "cpu_percent", "agg": "max", "step": "1h"}, {"name": "active_users"},
                   {"name": "queue_depth", "step": "0"}, {"name": "g", "agg": "rate"}):
        resp = admin_client.get("/admin/api/metrics/query", query_string=params)
        validate(doc, "/admin/api/metrics/query", "get", resp)
    validate(doc, "/admin/api/metrics/query", "get", client.get("/admin/api/metrics/query?name=x"))
