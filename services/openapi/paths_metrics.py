"""Paths of the OpenAPI document: pushing metrics, the metric catalogue and the metric query."""
from __future__ import annotations

from services.openapi.schemas import (
    INT, NUM, STR, TIME, TIME_Q, arr, errors, json_ok, nullable, obj, op, query,
)

NAME = {"type": "string", "pattern": "^[a-zA-Z_:][a-zA-Z0-9_:]*$", "minLength": 1, "maxLength": 200}
LABELS = {"type": "object", "maxProperties": 10,
          "propertyNames": {"pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$", "maxLength": 100},
          "additionalProperties": {"type": "string", "maxLength": 200}}
POINT = {**obj({"name": NAME, "value": NUM},
               {"type": {"enum": ["gauge", "counter"]}, "labels": nullable(LABELS),
                "unit": nullable({"type": "string", "pattern": "^[A-Za-z0-9_%/.-]{1,32}$"}),
                "timestamp": nullable({"anyOf": [TIME, NUM]})}),
         "additionalProperties": False}
ACCEPTED = obj({"accepted": obj({"metrics": INT}), "new_series": INT})
SERIES = obj({"name": STR, "labels": obj(), "type": {"enum": ["gauge", "counter"]},
              "unit": nullable(STR), "last_value": nullable(NUM), "last_at": nullable(TIME),
              "points_per_minute": NUM})
RESULT = obj({"name": STR, "agg": STR, "step": INT, "start": TIME, "end": TIME, "resolution": STR,
              "type": nullable(STR), "unit": nullable(STR),
              "series": arr(obj({"labels": obj(), "points": arr(arr({"anyOf": [TIME, NUM]}))}))})


def _ingest() -> dict:
    batch = {**obj({"metrics": {"type": "array", "maxItems": 1000, "items": POINT}}),
             "additionalProperties": False}
    return {
        "/api/v1/metrics": {"post": {
            "summary": "Push metric points (at most 1000): gauges and counters with labels",
            "description": "Stored in one transaction or not at all: a bad point refuses the batch "
                           "(400 naming its index and field). A point that would give its name "
                           "more than METRIC_MAX_SERIES label sets is refused (too_many_series) "
                           "and counted.",
            "tags": ["metrics"], "security": [{"ingestKey": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": batch}}},
            "responses": {**json_ok(ACCEPTED, 202, "Stored"),
                          **errors(400, 401, 413, 415, 429, 503)},
        }},
        "/api/v1/metrics/prometheus": {"post": {
            "summary": "Push an exposition in the Prometheus text format, as an exporter writes it",
            "description": "Counters, histograms and summaries become counters, everything else "
                           "gauges; NaN samples are skipped and counted. Same rules as /api/v1/metrics.",
            "tags": ["metrics"], "security": [{"ingestKey": []}],
            "requestBody": {"required": True, "content": {"text/plain": {"schema": {"type": "string"}}}},
            "responses": {**json_ok(obj({**ACCEPTED["properties"], "skipped": INT}), 202, "Stored"),
                          **errors(400, 401, 413, 429, 503)},
        }},
    }


def _read() -> dict:
    return {
        "/admin/api/metrics/catalog": {"get": op(
            "Every metric series, built-in and pushed: labels, type, unit, last value, points per minute",
            json_ok(obj({"series": arr(SERIES), "truncated": {"type": "boolean"}})),
            params=[query("q", STR, "Only names containing this text.")], tags=["metrics"])},
        "/admin/api/metrics/query": {"get": op(
            "One metric's points per series (or per group), reduced over step-wide windows",
            json_ok(RESULT),
            params=[query("name", NAME, "The metric's name.", required=True),
                    query("match", STR, 'Label matchers: label="value",other!=value'),
                    query("agg", {"enum": ["avg", "min", "max", "sum", "last", "count", "rate"]},
                          "The reducer (default avg; rate: a counter's increase per second)."),
                    query("step", {"type": "string", "pattern": "^[0-9]{1,8}[smhd]?$"},
                          "Window width: seconds or 30s, 5m, 1h, 1d."),
                    query("start", TIME_Q), query("end", TIME_Q),
                    query("group_by", STR, "Label names to sum series by, comma separated.")],
            tags=["metrics"])},
    }


def paths() -> dict:
    """This module's paths."""
    return {**_ingest(), **_read()}
