"""Export the panel's alert rules as a Prometheus rule file (YAML text).

Only rules whose metric has a PromQL equivalent over the ``/metrics`` families are exported;
the others are listed in a comment at the top, so nobody assumes Prometheus watches them.

Rule names are user text. PyYAML writes the document, so any character is quoted or escaped
as YAML requires; and since Prometheus expands Go templates in labels and annotations, every
brace of a name is written as an action that prints it (``template_literal``), so a name is
shown as the text it is and never runs as a template. The rule's labels and annotations
(``summary``, ``description``, ``runbook_url``) are exported the same way.
"""
from __future__ import annotations

import json
import re

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.alerts import AlertRule
from services.alerts import SETTLED_STATUSES
from services.alerts import presets
from services.prometheus.exposition import PREFIX

_RATE = "5m"
# PromQL for each rule metric, in the unit the rule's threshold is written in.
EXPRESSIONS = {
    "cpu_percent": f"max({PREFIX}_system_cpu_percent)",
    "memory_percent": f"max({PREFIX}_system_memory_percent)",
    "disk_percent": f"max({PREFIX}_system_disk_percent)",
    "error_rate": (f"100 * sum(rate({PREFIX}_http_request_errors_total[{_RATE}])) / "
                   f"clamp_min(sum(rate({PREFIX}_http_requests_total[{_RATE}])), 1e-9)"),
    "avg_response_ms": (f"1000 * sum(rate({PREFIX}_http_request_duration_seconds_sum[{_RATE}])) / "
                        f"clamp_min(sum(rate({PREFIX}_http_request_duration_seconds_count[{_RATE}])), 1e-9)"),
    "p95_response_ms": (f"1000 * histogram_quantile(0.95, sum by (le) "
                        f"(rate({PREFIX}_http_request_duration_seconds_bucket[{_RATE}])))"),
}


def failed_payment_share(params: dict | None = None) -> str:
    """PromQL for the alert metric ``failed_payment_rate`` with a rule's ``params``.

    The same definition as the panel's: failed / (completed + failed + refunded) payments, in
    percent, over the last ``window_minutes``, across currencies; no value at all below
    ``min_transactions`` settled payments (and none without any). Prometheus reads it from the
    change of the status counts during the window. The Grafana dashboard plots this expression
    with the default params.
    """
    defaults = {name: spec[2] for name, spec in presets.FAILED_PARAMS.items()}
    params = {**defaults, **(params or {})}
    window = f"{int(params['window_minutes'])}m"
    by_status = f"{PREFIX}_transactions_by_status"
    failed = f'sum(delta({by_status}{{status="failed"}}[{window}]))'
    settled = f'sum(delta({by_status}{{status=~"{"|".join(SETTLED_STATUSES)}"}}[{window}]))'
    # Left to right as the panel computes it (100 * failed / settled): the same float.
    return f"(100 * {failed} / {settled} and {settled} >= {max(1, int(params['min_transactions']))})"


PARAM_EXPRESSIONS = {"failed_payment_rate": failed_payment_share}
OPERATORS = {">", ">=", "<", "<="}


def alert_name(name: str) -> str:
    """A rule name as a Prometheus alert name: words joined in CamelCase, letters and digits only."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    joined = "".join(w[:1].upper() + w[1:] for w in words) or "PanelRule"
    return joined if joined[0].isalpha() else f"Rule{joined}"


def template_literal(text: str) -> str:
    """``text`` as a Go template that prints exactly ``text``: each ``{`` and ``}`` becomes
    ``{{ "{" }}`` / ``{{ "}" }}``, so no brace is left to open an action of its own."""
    return re.sub(r"[{}]", lambda m: '{{ "' + m.group(0) + '" }}', text)


def _comment_text(name: str) -> str:
    # One line of printable ASCII whatever the name holds (a YAML comment ends at a line break,
    # and YAML allows no DEL or other control character anywhere in the file).
    return json.dumps(name).replace("\x7f", "\\u007f")


def _threshold(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def build_rules(session: Session, group: str = "adminpanel") -> tuple[str, list[str]]:
    """The rule file for every enabled rule that maps onto the metrics, and the names left out."""
    rules = session.scalars(select(AlertRule).order_by(AlertRule.id)).all()
    exported, skipped = [], []
    for rule in rules:
        metric, params = rule.metric, rule.params or {}
        if metric == "metric":  # a catalogue rule that means one of the figures PromQL knows
            metric, params = presets.legacy_of(params) or (metric, params)
        expr = EXPRESSIONS.get(metric)
        if metric in PARAM_EXPRESSIONS:
            expr = PARAM_EXPRESSIONS[metric](params)
        if not rule.enabled or expr is None or rule.operator not in OPERATORS:
            skipped.append(rule.name)
            continue
        condition = f"{expr} {rule.operator} {_threshold(rule.threshold)}"
        entry = {"alert": alert_name(rule.name), "expr": condition}
        if rule.for_seconds:
            entry["for"] = f"{int(rule.for_seconds)}s"
        name = template_literal(rule.name)
        # The rule's own labels and annotations travel too (routing by team, runbook links);
        # names starting "__" are Prometheus's own and are left out.
        labels = {k: template_literal(str(v)) for k, v in sorted((rule.labels or {}).items())
                  if not k.startswith("__")}
        entry["labels"] = {**labels, "severity": rule.severity}
        own = {k: template_literal(str(v)) for k, v in (rule.annotations or {}).items() if v}
        entry["annotations"] = {
            "summary": own.pop("summary", f"{name}: {metric} {rule.operator} {_threshold(rule.threshold)}"),
            **own,
            "panel_rule": name,
        }
        exported.append(entry)
    head = ["# Prometheus rule file exported from the admin panel's alert rules."]
    if skipped:
        head.append("# Not exported (disabled, or no Prometheus metric for them): "
                    + ", ".join(_comment_text(n) for n in skipped))
    document = {"groups": [{"name": group, "rules": exported}]}
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=4096)
    return "\n".join(head) + "\n" + body, skipped
