"""Inhibition rules: while a source alert fires, matching target alerts send nothing.

``{source_matchers, target_matchers, equal}``: an open target alert is inhibited while another
alert (never itself) that matches the source matchers fires (firing or acknowledged) and has
the same values of the ``equal`` labels. It stays open and visible, marked "inhibited by …";
a resolved notice for a target that was notified before is still sent (see ``dispatch``).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.alerts.models import Alert
from services.alerts.labels import LABEL_NAME, label_set
from services.infra.input_checks import InputError, has_control
from services.routing.matchers import clean_matchers, matches
from services.routing.models import InhibitionRule

SOURCE_STATUSES = ("firing", "acknowledged")


class InhibitionError(InputError):
    """Refused inhibition rule input (400 naming the field) or a missing rule (404)."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message, field, "not_found" if status == 404 else "invalid_inhibition", status)


def validate(payload: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    """Clean fields; source and target matchers are required on create."""
    unknown = set(payload) - {"id", "name", "source_matchers", "target_matchers", "equal"}
    if unknown:
        raise InhibitionError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}", "body")
    clean: dict[str, Any] = {}
    if "name" in payload:
        name = payload["name"]
        if not isinstance(name, str) or len(name) > 80 or has_control(name):
            raise InhibitionError("name must be one line of at most 80 characters", "name")
        clean["name"] = name.strip()
    for key in ("source_matchers", "target_matchers"):
        if key in payload:
            clean[key] = clean_matchers(payload[key], key)
            if not clean[key]:
                raise InhibitionError(f"{key} needs at least one matcher", key)
        elif not partial:
            raise InhibitionError(f"{key} is required", key)
    if "equal" in payload:
        equal = payload["equal"]
        if not isinstance(equal, list) or len(equal) > 10 or any(
                not isinstance(e, str) or not LABEL_NAME.fullmatch(e) for e in equal):
            raise InhibitionError("equal must list at most 10 label names", "equal")
        clean["equal"] = list(dict.fromkeys(equal))
    return clean


def get(session: Session, rule_id: int) -> InhibitionRule:
    """One rule (404 otherwise)."""
    rule = session.get(InhibitionRule, rule_id)
    if rule is None:
        raise InhibitionError(f"inhibition rule {rule_id} does not exist", "id", 404)
    return rule


def create(session: Session, payload: dict[str, Any]) -> InhibitionRule:
    """Add a rule (flushed)."""
    rule = InhibitionRule(**{"name": "", "equal": [], **validate(payload)})
    session.add(rule)
    session.flush()
    return rule


def update(session: Session, rule_id: int, payload: dict[str, Any]) -> InhibitionRule:
    """Change some fields of a rule."""
    rule = get(session, rule_id)
    for key, value in validate(payload, partial=True).items():
        setattr(rule, key, value)
    session.flush()
    return rule


def delete(session: Session, rule_id: int) -> None:
    """Remove a rule."""
    session.delete(get(session, rule_id))
    session.flush()


def to_dict(rule: InhibitionRule) -> dict[str, Any]:
    """The API shape of a rule."""
    return {"id": rule.id, "name": rule.name, "source_matchers": list(rule.source_matchers or []),
            "target_matchers": list(rule.target_matchers or []), "equal": list(rule.equal or [])}


def list_all(session: Session) -> list[InhibitionRule]:
    """Every rule, oldest first."""
    return list(session.scalars(select(InhibitionRule).order_by(InhibitionRule.id)))


class Inhibitor:
    """The rules and the firing alerts of one moment, to ask about many alerts cheaply."""

    def __init__(self, session: Session):
        self.rules = list_all(session)
        self.sources = [(a, label_set(a)) for a in session.scalars(
            select(Alert).where(Alert.status.in_(SOURCE_STATUSES)))] if self.rules else []

    def inhibited_by(self, alert: Alert, labels: dict[str, str] | None = None) -> str | None:
        """The title of the alert inhibiting ``alert``, or None."""
        labels = labels if labels is not None else label_set(alert)
        for rule in self.rules:
            if not matches(rule.target_matchers, labels):
                continue
            for source, src_labels in self.sources:
                if source.id == alert.id:
                    continue  # an alert never inhibits itself
                if matches(rule.source_matchers, src_labels) and all(
                        src_labels.get(name, "") == labels.get(name, "") for name in rule.equal or []):
                    return source.title
        return None
