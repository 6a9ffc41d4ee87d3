"""metric rules: rules on system, request and payment figures become rules on catalogue metrics

Revision ID: 0005_metric_rules
Revises: 0004_service_monitors
Create Date: 2026-12-01 10:40:00

Data only. Every rule (shipped or not) whose metric is one of cpu_percent, memory_percent,
disk_percent, error_rate, avg_response_ms or failed_payment_rate becomes a rule of kind
``metric`` on the catalogue figure with the same definition, keeping its id (so its alerts
keep pointing at it), name, threshold, operator, for, severity, enabled, channels, snooze,
labels and annotations, and a shipped rule its hidden ``key``. Alerts are left as they were
written: their ``metric`` records what was watched when they opened. The mapping is frozen
here (a copy of services.alerts.presets as of this revision).
"""
from __future__ import annotations

import json
from typing import Any, Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0005_metric_rules'
down_revision: Union[str, Sequence[str], None] = '0004_service_monitors'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SIMPLE = {
    "cpu_percent": ("cpu_percent", "last", 300, "keep"),
    "memory_percent": ("memory_percent", "last", 300, "keep"),
    "disk_percent": ("disk_percent", "last", 300, "keep"),
    "error_rate": ("http_error_percent", "avg", 300, "ok"),
    "avg_response_ms": ("http_response_avg_ms", "avg", 300, "ok"),
}
FAILED = "failed_payment_rate"
BEFORE = "_before"


def _params(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):  # a JSON column read with plain SQL on SQLite
        raw = json.loads(raw or "{}")
    return dict(raw or {})


def _number(raw: Any, default: int) -> int:
    try:
        return int(float(raw))
    except (TypeError, ValueError):
        return default


def to_catalogue(metric: str, params: dict[str, Any]) -> dict[str, Any]:
    """The catalogue rule's params for an old rule (its hidden shipped-rule key kept)."""
    kept = {"key": params["key"]} if "key" in params else {}
    if metric in SIMPLE:
        name, reducer, window, no_data = SIMPLE[metric]
        return {"name": name, "match": "", "reducer": reducer, "window_seconds": window,
                "min_count": 0, "no_data": no_data, **kept}
    minutes = _number(params.get("window_minutes"), 15)
    return {"name": "failed_payment_percent", "match": "", "reducer": "avg",
            "window_seconds": (minutes + 15) * 60, "min_count": _number(params.get("min_transactions"), 5),
            "no_data": "ok", **kept}


def from_catalogue(params: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The old metric and params of a catalogue rule that means one exactly (for downgrade)."""
    kept = {"key": params["key"]} if "key" in params else {}
    if params.get("match"):
        return None
    for metric, (name, reducer, window, _) in SIMPLE.items():
        if (params.get("name"), params.get("reducer"), params.get("window_seconds")) == (name, reducer, window):
            return metric, kept
    if params.get("name") == "failed_payment_percent" and params.get("reducer") == "avg":
        minutes = _number(params.get("window_seconds"), 0) // 60 - 15
        if minutes >= 15:
            return FAILED, {"window_minutes": minutes,
                            "min_transactions": _number(params.get("min_count"), 0), **kept}
    return None


def _rules() -> sa.Table:
    return sa.table("alert_rules", sa.column("id", sa.Integer), sa.column("metric", sa.String),
                    sa.column("params", sa.JSON))


def upgrade() -> None:
    """Rules on the old figures become catalogue rules, in place."""
    conn = op.get_bind()
    rules = _rules()
    for rule_id, metric, params in conn.execute(sa.select(rules.c.id, rules.c.metric, rules.c.params)).all():
        if metric in SIMPLE or metric == FAILED:
            old = _params(params)
            # What it was, hidden (params starting with "_" are never shown nor evaluated), so a
            # downgrade gives back exactly this row while nobody edited the rule.
            new = {**to_catalogue(metric, old), BEFORE: {"metric": metric, "params": old}}
            conn.execute(rules.update().where(rules.c.id == rule_id).values(metric="metric", params=new))


def downgrade() -> None:
    """Catalogue rules that mean an old figure exactly name it again (others stay as they are)."""
    conn = op.get_bind()
    rules = _rules()
    for rule_id, metric, params in conn.execute(sa.select(rules.c.id, rules.c.metric, rules.c.params)).all():
        params = _params(params)
        before = params.get(BEFORE)
        if metric == "metric" and isinstance(before, dict) and \
                {**to_catalogue(before["metric"], before["params"]), BEFORE: before} == params:
            old = (before["metric"], before["params"])
        else:
            old = from_catalogue(params) if metric == "metric" else None
        if old is not None:
            conn.execute(rules.update().where(rules.c.id == rule_id).values(metric=old[0], params=old[1]))
