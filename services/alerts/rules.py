"""Alert rules: the metrics they may watch, validation, create/update/delete, seeding the defaults.

A rule is "metric operator threshold, held for for_seconds". Business metrics take a few
parameters (a window, a minimum sample) kept in ``params``; anything else is refused, so a
typo never silently turns a rule into one that can never fire.
"""
from __future__ import annotations

import logging
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from database import utcnow
from services.alerts import presets
# Also read by callers and tests as rules.DEFAULT_RULES.
from services.alerts.defaults import DEFAULT_RULES
from services.alerts.labels import LabelError, clean_annotations, clean_labels
from services.alerts.models import AlertRule
from services.infra import has_control
from services.ingest.rollups import begin_write

log = logging.getLogger(__name__)

OPERATORS = (">", ">=", "<", "<=")
SEVERITIES = ("critical", "warning", "info")
CHANNELS = ("webhook", "email")
OPEN_STATUSES = ("pending", "firing", "acknowledged")
MAX_FOR_SECONDS = 7 * 24 * 3600
MAX_NAME = 120
# Thresholds and params are floats in the database; beyond this they mean a typo, not a limit.
MAX_MAGNITUDE = 1e15


@dataclass(frozen=True)
class MetricInfo:
    """What a metric means, its unit, and the params a rule on it may carry (name -> (lo, hi, default))."""

    label: str
    unit: str
    params: dict[str, tuple[float, float, float]] = field(default_factory=dict)


METRICS: dict[str, MetricInfo] = {
    # Figures that are not catalogue metrics, each for a reason given in services.alerts.values.
    "p95_response_ms": MetricInfo("95th percentile response time", "ms"),
    "db_latency_ms": MetricInfo("Database round trip", "ms"),
    "db_connection_failures": MetricInfo(
        "Failed database checks in the window", "count", {"window_minutes": (1, 1440, 5)}),
    "minutes_since_completed": MetricInfo(
        "Minutes since the last completed transaction (only while the same hour last week had some)",
        "min"),
    "revenue_vs_baseline": MetricInfo(
        "Revenue of the last complete hour against the same hour averaged over past weeks", "%",
        {"weeks": (1, 12, 4)}),
    # Any metric of the catalogue (pushed or built-in): params.name, params.match (label
    # matchers), params.reducer over the last window_seconds; below min_count points the rule
    # does not apply (clears); params.no_data "ok" clears on an empty window, "keep" (default)
    # leaves the alert as it is.
    "metric": MetricInfo("Any catalogue metric, reduced over a window", "",
                         {"window_seconds": (1, 172_800, 300), "min_count": (0, 1_000_000, 0)}),
    # A series that stopped reporting: minutes since the newest point of params.name (matching
    # params.match); compare with ">=" N for "no data for N minutes".
    "metric_no_data": MetricInfo("Minutes since a catalogue metric's newest point", "min"),
}
NO_DATA = ("keep", "ok")
# Text params of the catalogue rules, checked by services.metrics (name, matchers, reducer).
TEXT_PARAMS = {"metric": ("name", "match", "reducer", "no_data"), "metric_no_data": ("name", "match")}


class RuleError(ValueError):
    """A rule payload is invalid (answered 400); ``conflict`` marks a 409 (duplicate name...)."""

    def __init__(self, message: str, conflict: bool = False):
        super().__init__(message)
        self.conflict = conflict


def rule_to_dict(rule: AlertRule, now: datetime | None = None) -> dict[str, Any]:
    """The contract's rule object (plus params, snooze and bookkeeping fields)."""
    now = now or utcnow()
    snoozed = rule.snoozed_until is not None and rule.snoozed_until > now
    return {
        "id": rule.id, "name": rule.name, "metric": rule.metric, "operator": rule.operator,
        "threshold": rule.threshold, "for_seconds": rule.for_seconds, "severity": rule.severity,
        "enabled": rule.enabled, "channels": list(rule.channels or []),
        "params": {k: v for k, v in (rule.params or {}).items() if k != "key" and not k.startswith("_")},
        "labels": dict(rule.labels or {}), "annotations": dict(rule.annotations or {}),
        "builtin": rule.builtin, "snoozed": snoozed,
        "snoozed_until": rule.snoozed_until.isoformat() if snoozed else None,
        "created_at": rule.created_at.isoformat() if rule.created_at else None,
        "updated_at": rule.updated_at.isoformat() if rule.updated_at else None,
    }


def _number(name: str, raw: Any) -> float:
    # Checked as sent: a 4,000-digit integer is too large for a float, so compare first.
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or \
            not -MAX_MAGNITUDE <= raw <= MAX_MAGNITUDE or not math.isfinite(raw):
        raise RuleError(f"{name} must be a number between {-MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}")
    return float(raw)


def name_key(name: str) -> str:
    """What makes two rule names the same: Unicode compatibility form, case folded.

    ``Ärger`` and ``ärger``, ``Straße`` and ``STRASSE``, or a fullwidth ``Ｒule`` and ``Rule``
    are one name to people reading an alert, so they are one name here too.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def _name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw.strip()) > MAX_NAME:
        raise RuleError(f"name must be a non-empty string of at most {MAX_NAME} characters")
    if has_control(raw):
        # A name is one line of text shown in pages, notifications and exported rule files.
        raise RuleError("name must not contain control characters or line breaks")
    return raw.strip()


def validate(payload: dict[str, Any], partial: bool = False,
             current: AlertRule | None = None) -> dict[str, Any]:
    """Check a rule payload; return the clean fields. ``partial`` allows leaving fields out (PUT)."""
    allowed = {"name", "metric", "operator", "threshold", "for_seconds", "severity", "enabled",
               "channels", "params", "labels", "annotations"}
    ignored = {"id", "builtin", "snoozed", "snoozed_until", "created_at", "updated_at"}
    unknown = set(payload) - allowed - ignored
    if unknown:
        raise RuleError(f"unknown field(s): {', '.join(sorted(unknown))}")
    required = {"name", "metric", "operator", "threshold"}
    missing = [f for f in sorted(required) if f not in payload] if not partial else []
    if missing:
        raise RuleError(f"missing field(s): {', '.join(missing)}")
    clean: dict[str, Any] = {}
    if "name" in payload:
        clean["name"] = _name(payload["name"])
    if "metric" in payload and isinstance(payload["metric"], str) and payload["metric"] in presets.names():
        payload = _from_legacy(payload)
    if "metric" in payload:
        if not isinstance(payload["metric"], str) or payload["metric"] not in METRICS:
            raise RuleError(f"metric must be one of: {', '.join((*METRICS, *presets.names()))}")
        clean["metric"] = payload["metric"]
    if "operator" in payload:
        if payload["operator"] not in OPERATORS:
            raise RuleError(f"operator must be one of: {' '.join(OPERATORS)}")
        clean["operator"] = payload["operator"]
    if "threshold" in payload:
        clean["threshold"] = _number("threshold", payload["threshold"])
    if "for_seconds" in payload:
        raw = payload["for_seconds"]
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_FOR_SECONDS:
            raise RuleError(f"for_seconds must be an integer between 0 and {MAX_FOR_SECONDS}")
        clean["for_seconds"] = raw
    if "severity" in payload:
        if payload["severity"] not in SEVERITIES:
            raise RuleError(f"severity must be one of: {', '.join(SEVERITIES)}")
        clean["severity"] = payload["severity"]
    if "enabled" in payload:
        if not isinstance(payload["enabled"], bool):
            raise RuleError("enabled must be true or false")
        clean["enabled"] = payload["enabled"]
    if "channels" in payload:
        channels = payload["channels"]
        if not isinstance(channels, list) or any(c not in CHANNELS for c in channels):
            raise RuleError(f"channels must be a list drawn from: {', '.join(CHANNELS)}")
        clean["channels"] = sorted(set(channels), key=CHANNELS.index)
    try:
        for key, check in (("labels", clean_labels), ("annotations", clean_annotations)):
            if key in payload:
                clean[key] = check(payload[key], key)
    except LabelError as exc:
        raise RuleError(str(exc)) from None
    metric = clean.get("metric") or (current.metric if current else None)
    if "params" in payload or "metric" in clean:
        params = payload.get("params", {} if "metric" in clean else None)
        if params is None:
            params = {k: v for k, v in (current.params or {}).items()
                      if k != "key" and not k.startswith("_")} if current else {}
        clean["params"] = _validate_params(metric, params)
    return clean


def _from_legacy(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload naming a figure that is now a catalogue metric, as a rule on that metric
    (its old params checked against their old limits first)."""
    params = payload.get("params", {})
    if not isinstance(params, dict):
        raise RuleError("params must be an object")
    spec = presets.FAILED_PARAMS if payload["metric"] == "failed_payment_rate" else {}
    unknown = set(params) - set(spec)
    if unknown:
        raise RuleError(f"params not understood for {payload['metric']}: {', '.join(sorted(unknown))} "
                        f"(accepted: {', '.join(spec) or 'none'})")
    for key, (lo, hi, _) in spec.items():
        if key in params:
            value = _number(f"params.{key}", params[key])
            if not lo <= value <= hi or value != int(value):
                raise RuleError(f"params.{key} must be a whole number between {lo:g} and {hi:g}")
    return {**payload, "metric": "metric",
            "params": presets.to_catalogue(payload["metric"], params)}


def _validate_params(metric: str | None, params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise RuleError("params must be an object")
    spec = METRICS[metric].params if metric in METRICS else {}
    text = _text_params(metric, params)
    unknown = set(params) - set(spec) - set(TEXT_PARAMS.get(metric or "", ()))
    if unknown:
        accepted = ", ".join(spec) or "none"
        raise RuleError(f"params not understood for {metric}: {', '.join(sorted(unknown))} "
                        f"(accepted: {accepted})")
    clean = {}
    for key, (lo, hi, default) in spec.items():
        raw = params.get(key, default)
        value = _number(f"params.{key}", raw)
        if not lo <= value <= hi or value != int(value):
            raise RuleError(f"params.{key} must be a whole number between {lo:g} and {hi:g}")
        clean[key] = int(value)
    return {**clean, **text}


def _text_params(metric: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """name (required), match and reducer of a rule on a catalogue metric, checked and kept."""
    if metric not in TEXT_PARAMS:
        return {}
    from services import metrics

    try:
        name = metrics.validate.check_name(params.get("name"), "params.name")
        match = params.get("match") or ""
        if not isinstance(match, str) or len(match) > 500:
            raise RuleError("params.match must be label matchers as text (at most 500 characters)")
        metrics.parse_matchers(match)
    except metrics.MetricError as exc:
        raise RuleError(exc.message) from None
    clean: dict[str, Any] = {"name": name, "match": match}
    if "reducer" in TEXT_PARAMS[metric]:
        reducer = params.get("reducer", "last")
        if reducer not in metrics.query_module.AGGS:
            raise RuleError(f"params.reducer must be one of: {', '.join(metrics.query_module.AGGS)}")
        clean["reducer"] = reducer
    if "no_data" in TEXT_PARAMS[metric]:
        no_data = params.get("no_data", "keep")
        if no_data not in NO_DATA:
            raise RuleError(f"params.no_data must be one of: {', '.join(NO_DATA)}")
        clean["no_data"] = no_data
    return clean


def list_rules(session: Session) -> list[AlertRule]:
    """Every rule, by name."""
    return list(session.scalars(select(AlertRule).order_by(AlertRule.name)))


def get_rule(session: Session, rule_id: int) -> AlertRule | None:
    """One rule or None."""
    return session.get(AlertRule, rule_id)


def _check_name_free(session: Session, name: str, rule_id: int | None = None) -> None:
    """409 when another rule has the same name up to case and Unicode form (see ``name_key``).

    Compared in Python: SQLite's lower() folds ASCII only. Concurrent creates and renames take
    turns (a transaction lock on PostgreSQL, the write lock on SQLite), so two of them cannot
    both pass the check; the unique index stays the last word (see ``_flush_named``).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('alert_rules.name'))"))
    else:
        begin_write(session)
    key = name_key(name)
    for other_id, other in session.execute(select(AlertRule.id, AlertRule.name)):
        if other_id != rule_id and name_key(other) == key:
            raise RuleError(f"a rule named {other!r} already exists", conflict=True)


def _flush_named(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        # Another writer took the name between the check and this insert.
        session.rollback()
        raise RuleError(f"a rule named {name!r} already exists", conflict=True) from None


def create_rule(session: Session, payload: dict[str, Any]) -> AlertRule:
    """Validate and add a rule (flushed, not committed)."""
    clean = validate(payload)
    _check_name_free(session, clean["name"])
    clean.setdefault("channels", list(CHANNELS))
    clean.setdefault("labels", {})
    clean.setdefault("annotations", {})
    if "params" not in clean:  # (not setdefault: its default would be checked, and refused, first)
        clean["params"] = _validate_params(clean["metric"], {})
    now = utcnow()
    rule = AlertRule(**clean, builtin=False, created_at=now, updated_at=now)
    session.add(rule)
    _flush_named(session, rule.name)
    return rule


def update_rule(session: Session, rule: AlertRule, payload: dict[str, Any]) -> dict[str, Any]:
    """Apply the given fields to ``rule``; returns {field: [old, new]} of what changed."""
    clean = validate(payload, partial=True, current=rule)
    if "name" in clean:
        _check_name_free(session, clean["name"], rule.id)
    changes = {}
    for key, value in clean.items():
        old = getattr(rule, key)
        if key == "params":
            # A builtin rule keeps its hidden key so seeding still recognises it.
            value = {**value, **({"key": rule.params["key"]} if "key" in (rule.params or {}) else {})}
        if old != value:
            changes[key] = [old, value]
            setattr(rule, key, value)
    if changes:
        rule.updated_at = utcnow()
    _flush_named(session, rule.name)
    return changes


def seed_defaults(session: Session) -> int:
    """Insert each shipped rule that is not there yet (recognised by its key); returns how many."""
    have = {(r.params or {}).get("key") for r in
            session.scalars(select(AlertRule).where(AlertRule.builtin.is_(True)))}
    added = 0
    for spec in DEFAULT_RULES:
        if spec["key"] in have:
            continue
        params = _validate_params(spec["metric"], spec.get("params", {}))
        fields = {k: v for k, v in spec.items() if k not in ("key", "params")}
        now = utcnow()
        session.add(AlertRule(**fields, params={**params, "key": spec["key"]}, builtin=True, labels={},
                              annotations={},
                              enabled=True, channels=list(CHANNELS), created_at=now,
                              updated_at=now))
        added += 1
    if added:
        try:
            session.flush()
        except IntegrityError:
            # Another process seeded at the same moment (or a custom rule took the name).
            session.rollback()
            log.warning("default alert rules not seeded: a rule with the same name exists")
            return 0
    return added
