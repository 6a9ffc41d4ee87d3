"""The Prometheus rule file stays valid, and shows rule names as text, whatever the names are.

Names a user can create go through the API; names with control characters (refused by the API
today, but possibly stored by an older version) are written to the database directly. Each
file is parsed with PyYAML, checked with ``promtool check rules`` and, through ``promtool test
rules``, evaluated: the annotations Prometheus would send must equal the names, character for
character. The promtool steps are skipped where promtool is not installed (Debian package
``prometheus``; CI installs it).
"""
from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from sqlalchemy import delete

import database
from services.alerts import AlertRule
from services.prometheus import PREFIX

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")

# Go template syntax, YAML syntax and plain awkward text; each gets a unique word at the end so
# every rule has its own alert name.
HOSTILE = [
    '{{ range query "up" }}{{ . }}{{ end }}', "{{", "}}", "{", "}", "{{{", "}}}", "a{b}c",
    "{{ $value }}", "{{ .Labels.instance }}", '{{ "{{" }}', "{{/* comment */}}", '"quoted"',
    "'single'", "back\\slash", ": colon", "# hash", "- dash", "&anchor", "*alias", "!tag",
    "%percent", "@at", "`tick`", "yes", "null", "~", "1e3", "key: value", "[list]",
    "{map: 1}", "| pipe", "> fold", "<script>alert(1)</script>", "Ärger", "日本語のルール",
    "🔥 fire", "\u202eevil", "non\u00a0breaking", "zero\u200bwidth", "$labels", "%{x}",
]
# Stored by an older version, perhaps: the file must still be valid.
LEGACY = ["line\nbreak", "tab\there", "esc\x1b[31m", "del\x7f", "nel\x85", "sep\u2028arator",
          "cr\rreturn", "bell\x07"]


def _name(base: str, i: int) -> str:
    return f"{base} n{i}"


def _export(admin_client) -> str:
    resp = admin_client.get("/admin/api/alerts/prometheus-rules")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _only_these(app, names: list[str], enabled: bool = True) -> None:
    with database.session_scope(app) as s:
        s.execute(delete(AlertRule))
        for name in names:
            s.add(AlertRule(name=name, metric="cpu_percent", operator=">", threshold=1.0,
                            severity="warning", enabled=enabled, channels=[], params={}))


def _promtool(tmp_path, rules_text: str, names: list[str]) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(rules_text, encoding="utf-8")
    check = subprocess.run([PROMTOOL, "check", "rules", str(rules)], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    # Evaluate the rules: promtool expands the annotation templates as Prometheus would and
    # compares them with what we expect, the names as plain text.
    doc = yaml.safe_load(rules_text)
    tests = [{"eval_time": "1m", "alertname": rule["alert"], "exp_alerts": [{
        "exp_labels": {"severity": "warning"},
        "exp_annotations": {"summary": f"{name}: cpu_percent > 1", "panel_rule": name},
    }]} for rule, name in zip(doc["groups"][0]["rules"], names)]
    unit = {"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": f'{PREFIX}_system_cpu_percent{{host="a"}}',
                          "values": "50+0x5"}],
        "alert_rule_test": tests,
    }]}
    unit_file = tmp_path / "unit.yml"
    unit_file.write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
    run = subprocess.run([PROMTOOL, "test", "rules", str(unit_file)], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def _parsed_names(text: str) -> list[dict]:
    doc = yaml.safe_load(text)
    return doc["groups"][0]["rules"]


def test_hostile_names_created_through_the_api_export_as_valid_yaml(app, admin_client, tmp_path):
    _only_these(app, [])
    names = [_name(base, i) for i, base in enumerate(HOSTILE)]
    for name in names:
        resp = admin_client.api("POST", "/admin/api/alerts/rules", json={
            "name": name, "metric": "cpu_percent", "operator": ">", "threshold": 1})
        assert resp.status_code == 201, (name, resp.get_json())
        assert resp.get_json()["rule"]["name"] == name
    text = _export(admin_client)
    rules = _parsed_names(text)
    assert [r["alert"] for r in rules] == sorted({r["alert"] for r in rules}, key=[
        r["alert"] for r in rules].index)  # one alert name per rule, in creation order
    assert len(rules) == len(names)
    for rule in rules:
        assert rule["expr"] == f"max({PREFIX}_system_cpu_percent) > 1"
    if PROMTOOL:
        _promtool(tmp_path, text, names)


@pytest.mark.parametrize("name", LEGACY)
def test_names_with_control_characters_are_refused(admin_client, name):
    resp = admin_client.api("POST", "/admin/api/alerts/rules", json={
        "name": name, "metric": "cpu_percent", "operator": ">", "threshold": 1})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_rule"
    assert "control characters" in resp.get_json()["error"]["message"]


def test_stored_names_with_control_characters_still_export(app, admin_client, tmp_path):
    names = [_name(base, i) for i, base in enumerate(LEGACY)]
    _only_these(app, names)
    text = _export(admin_client)
    assert len(_parsed_names(text)) == len(names)
    if PROMTOOL:
        _promtool(tmp_path, text, names)


def test_skipped_names_stay_inside_the_comment(app, admin_client):
    """Disabled rules are listed in a comment: a line break in a name must not end it."""
    names = [_name(base, i) for i, base in enumerate(LEGACY + ["{{ x }}", "groups: []"])]
    _only_these(app, names, enabled=False)
    text = _export(admin_client)
    assert yaml.safe_load(text) == {"groups": [{"name": "adminpanel", "rules": []}]}
    lines = text.splitlines()
    assert lines[1].startswith("# Not exported") and lines[2] == "groups:"
    assert all(f' n{i}"' in lines[1] for i in range(len(names)))  # every name, on that one line


@needs_promtool
def test_promtool_accepts_the_shipped_rules(app, admin_client, tmp_path):
    path = tmp_path / "shipped.yml"
    path.write_text(_export(admin_client), encoding="utf-8")
    check = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


def test_labels_and_annotations_travel_with_the_exported_rule(app, admin_client, tmp_path):
    _only_these(app, [])
    labels = {"team": "platform", "service": "api {{ $value }}"}
    annotations = {"summary": "CPU of {api} is high", "description": "Scale out.",
                   "runbook_url": "https://runbooks.example.com/cpu?x={y}"}
    resp = admin_client.api("POST", "/admin/api/alerts/rules", json={
        "name": "Busy CPU", "metric": "cpu_percent", "operator": ">", "threshold": 1,
        "labels": labels, "annotations": annotations})
    assert resp.status_code == 201, resp.get_json()
    [rule] = _parsed_names(_export(admin_client))
    assert set(rule["labels"]) == {"team", "service", "severity"}
    assert set(rule["annotations"]) == {"summary", "description", "runbook_url", "panel_rule"}
    if not PROMTOOL:
        return
    rules = tmp_path / "rules.yml"
    rules.write_text(_export(admin_client), encoding="utf-8")
    check = subprocess.run([PROMTOOL, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    # Prometheus's own engine fires the alert with the rule's labels and annotations as written.
    unit = {"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": f'{PREFIX}_system_cpu_percent{{host="a"}}', "values": "50+0x5"}],
        "alert_rule_test": [{"eval_time": "1m", "alertname": "BusyCPU", "exp_alerts": [{
            "exp_labels": {**labels, "severity": "warning"},
            "exp_annotations": {**annotations, "panel_rule": "Busy CPU"}}]}],
    }]}
    unit_file = tmp_path / "unit.yml"
    unit_file.write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
    run = subprocess.run([PROMTOOL, "test", "rules", str(unit_file)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
