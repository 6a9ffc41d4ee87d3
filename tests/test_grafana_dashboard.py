"""The Grafana dashboard imports as Grafana imports it, binding the data source the user picks.

The shape is checked against Grafana's dashboard model (its dashboard kind: panels with a
non-empty type, grid positions inside the 24-column grid, field config and options objects,
data source references ``{type, uid}``, template variables of a known type whose ``current``
option carries ``text`` and ``value``). The import is replayed as Grafana's dashboard import
does it: every ``__inputs`` entry needs a value of its type, and each ``${NAME}`` in any string
of the JSON becomes that value.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from services.prometheus import rules as prometheus_rules

DASHBOARD = Path(__file__).resolve().parent.parent / "docs" / "grafana-dashboard.json"
PICKED_UID = "prom-picked-by-user"

_REF = {"type": "object", "properties": {"type": {"type": "string"}, "uid": {"type": "string"}},
        "additionalProperties": False}
_TEXT = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
SCHEMA = {
    "type": "object",
    "required": ["title", "uid", "schemaVersion", "panels", "templating", "time"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "uid": {"type": "string", "minLength": 8, "maxLength": 40},
        "schemaVersion": {"type": "integer", "minimum": 36},
        "editable": {"type": "boolean"},
        "timezone": {"type": "string"},
        "refresh": {"anyOf": [{"type": "string"}, {"const": False}]},
        "time": {"type": "object", "required": ["from", "to"],
                 "properties": {"from": {"type": "string"}, "to": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "__inputs": {"type": "array", "items": {
            "type": "object", "required": ["name", "label", "type", "pluginId"],
            "properties": {"name": {"type": "string", "pattern": "^[A-Z0-9_]+$"},
                           "type": {"const": "datasource"}, "pluginId": {"type": "string"}}}},
        "__requires": {"type": "array", "items": {
            "type": "object", "required": ["type", "id", "name", "version"],
            "properties": {"type": {"enum": ["grafana", "datasource", "panel"]}}}},
        "templating": {"type": "object", "required": ["list"], "properties": {"list": {
            "type": "array", "items": {
                "type": "object", "required": ["name", "type", "current"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                    "type": {"enum": ["query", "adhoc", "constant", "datasource", "interval",
                                      "textbox", "custom", "system"]},
                    "hide": {"enum": [0, 1, 2]},
                    "datasource": _REF,
                    "current": {"type": "object", "required": ["text", "value"],
                                "properties": {"selected": {"type": "boolean"}, "text": _TEXT,
                                               "value": _TEXT}},
                }}}}},
        "panels": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id", "type", "title", "gridPos", "datasource", "targets",
                                           "fieldConfig", "options"],
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "type": {"type": "string", "minLength": 1},
                "title": {"type": "string"},
                "datasource": _REF,
                "gridPos": {"type": "object", "required": ["h", "w", "x", "y"], "properties": {
                    "h": {"type": "integer", "minimum": 1},
                    "w": {"type": "integer", "minimum": 1, "maximum": 24},
                    "x": {"type": "integer", "minimum": 0, "maximum": 23},
                    "y": {"type": "integer", "minimum": 0}}},
                "fieldConfig": {"type": "object", "required": ["defaults", "overrides"],
                                "properties": {"defaults": {"type": "object"},
                                               "overrides": {"type": "array"}}},
                "options": {"type": "object"},
                "targets": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["refId", "datasource", "expr"],
                    "properties": {"refId": {"type": "string", "minLength": 1}, "datasource": _REF,
                                   "expr": {"type": "string", "minLength": 1}}}},
            }}},
    },
}
_INPUT = re.compile(r"\$\{.+?\}")


def grafana_import(dashboard: dict, inputs: dict[tuple[str, str], str]) -> dict:
    """The dashboard as Grafana stores it after an import with ``inputs`` ((name, type) -> value).

    Grafana refuses an import that lacks a value for one of ``__inputs``; then it replaces
    every ``${NAME}`` of an input, in every string, and drops ``__inputs``.
    """
    values = {}
    for declared in dashboard.get("__inputs", []):
        key = (declared["name"], declared["type"])
        if key not in inputs:
            raise LookupError(f"Dashboard input variable: {declared['name']} missing from import command")
        values["${" + declared["name"] + "}"] = inputs[key]

    def walk(node):
        if isinstance(node, str):
            return _INPUT.sub(lambda m: values.get(m.group(0), m.group(0)), node)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if k != "__inputs"}
        return node
    return walk(dashboard)


def _datasource_refs(board: dict):
    for panel in board["panels"]:
        yield panel["title"], panel["datasource"]
        for target in panel["targets"]:
            yield f"{panel['title']} / {target['refId']}", target["datasource"]
    for variable in board["templating"]["list"]:
        if "datasource" in variable:
            yield f"${variable['name']}", variable["datasource"]


@pytest.fixture(scope="module")
def board() -> dict:
    return json.loads(DASHBOARD.read_text())


def test_dashboard_fits_grafanas_model(board):
    jsonschema.validate(board, SCHEMA)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
    required = {(r["type"], r["id"]) for r in board["__requires"]}
    assert {("panel", p["type"]) for p in board["panels"]} <= required
    assert ("datasource", "prometheus") in required


def test_import_binds_the_data_source_the_user_picks(board):
    declared = {i["name"] for i in board["__inputs"]}
    text = json.dumps(board)
    # Every declared input is used, and nothing refers to an input that is not declared.
    assert {m[2:-1] for m in _INPUT.findall(text)} == declared == {"DS_PROMETHEUS"}
    with pytest.raises(LookupError):
        grafana_import(board, {})
    imported = grafana_import(board, {("DS_PROMETHEUS", "datasource"): PICKED_UID})
    refs = list(_datasource_refs(imported))
    assert len(refs) > len(board["panels"])
    for where, ref in refs:
        assert ref == {"type": "prometheus", "uid": PICKED_UID}, where
    assert "${" not in json.dumps(imported)
    # Template variables used in queries exist, each with a current value Grafana can show.
    names = {v["name"] for v in imported["templating"]["list"]}
    used = {m for p in imported["panels"] for t in p["targets"] for m in re.findall(r"\$(\w+)", t["expr"])}
    assert used <= names
    for variable in imported["templating"]["list"]:
        assert variable["current"]["text"] and variable["current"]["value"]


def test_served_dashboard_is_the_documented_file(admin_client, board):
    resp = admin_client.get("/admin/api/grafana-dashboard.json")
    assert resp.status_code == 200
    assert json.loads(resp.data) == board


def test_failed_payment_panel_is_the_rule_expression(board):
    panel = next(p for p in board["panels"] if p["title"].startswith("Failed payment share"))
    assert [t["expr"] for t in panel["targets"]] == [prometheus_rules.failed_payment_share()]
    assert panel["fieldConfig"]["defaults"]["unit"] == "percent"
