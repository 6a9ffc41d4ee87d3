"""Notification policies: an ordered tree of label matchers deciding where each alert goes.

The root (the default policy) is not stored: it sends to the rule's own channels among the two
from the settings (``webhook``, ``email``), and its timings come from the configuration
(``ALERT_GROUP_WAIT``, ``ALERT_GROUP_INTERVAL``, ``ALERT_REPEAT_INTERVAL``, all 0 by default:
at once, no reminders), so without policies nothing changes. Stored policies hang below it.
As in Alertmanager, an alert walks the tree from the root: among a node's children (by
``position``) the first that matches takes it, and ``continue`` lets the next siblings match
too; a matching node whose children all miss is where the alert goes. A node without contact
points, or without timings, inherits its parent's.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.alerts.labels import LABEL_NAME
from services.infra import MAX_ID
from services.infra.input_checks import InputError, has_control
from services.routing import contact_points
from services.routing.matchers import clean_matchers, matches
from services.routing.models import NotificationPolicy

TIMINGS = ("group_wait", "group_interval", "repeat_interval")
MAX_SECONDS = 7 * 24 * 3600
MAX_GROUP_BY = 10
MAX_DEPTH = 8


class PolicyError(InputError):
    """Refused policy input (400 naming the field) or a missing policy (404)."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        code = {404: "not_found", 409: "conflict"}.get(status, "invalid_policy")
        super().__init__(message, field, code, status)


@dataclass
class Route:
    """Where one alert goes from one matching policy, and how its messages are timed."""

    policy_id: int | None
    name: str
    channels: list[str]
    group_by: list[str] = field(default_factory=list)
    group_wait: int = 0
    group_interval: int = 0
    repeat_interval: int = 0

    def group_key(self, event: str, labels: dict[str, str], alert_id: int) -> str:
        """Alerts with the same key (per channel) are sent together; no ``group_by``: each alone."""
        part = ",".join(f"{k}={labels.get(k, '')}" for k in self.group_by) if self.group_by \
            else f"alert={alert_id}"
        key = f"{self.policy_id or 'root'}|{'resolved' if event == 'resolved' else 'fired'}|{part}"
        return key if len(key) <= 255 else key[:200] + "#" + hashlib.sha256(key.encode()).hexdigest()[:40]


def root_route(config: dict[str, Any], channels: list[str]) -> Route:
    """The default policy: the rule's channels, timings from the configuration."""
    return Route(None, "default", [c for c in channels if c in contact_points.BUILTIN], [],
                 int(config.get("ALERT_GROUP_WAIT") or 0), int(config.get("ALERT_GROUP_INTERVAL") or 0),
                 int(config.get("ALERT_REPEAT_INTERVAL") or 0))


def route(session: Session, config: dict[str, Any], labels: dict[str, str],
          rule_channels: list[str]) -> list[Route]:
    """Every policy the alert with ``labels`` is sent through (at least the default one)."""
    names = contact_points.channels_by_name(session)
    children: dict[int | None, list[NotificationPolicy]] = {}
    for p in session.scalars(select(NotificationPolicy).order_by(NotificationPolicy.position,
                                                                  NotificationPolicy.id)):
        children.setdefault(p.parent_id, []).append(p)

    def walk(parent_id: int | None, inherited: Route, depth: int) -> list[Route]:
        found: list[Route] = []
        for node in children.get(parent_id, []) if depth < MAX_DEPTH else []:
            if not matches(node.matchers, labels):
                continue
            here = Route(node.id, node.name or f"policy {node.id}",
                         [names[n] for n in node.contact_points or [] if n in names] or inherited.channels,
                         list(node.group_by or []) or inherited.group_by,
                         *(getattr(node, t) if getattr(node, t) is not None else getattr(inherited, t)
                           for t in TIMINGS))
            found += walk(node.id, here, depth + 1) or [here]
            if not node.continue_matching:
                break
        return found

    root = root_route(config, rule_channels)
    return walk(None, root, 0) or [root]


def _seconds(raw: Any, name: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_SECONDS:
        raise PolicyError(f"{name} must be whole seconds from 0 to {MAX_SECONDS}, or null to inherit", name)
    return raw


def validate(session: Session, payload: dict[str, Any], current: NotificationPolicy | None = None) -> dict:
    """Clean policy fields (PUT may leave some out)."""
    allowed = {"name", "parent_id", "position", "matchers", "contact_points", "continue", "group_by", *TIMINGS}
    unknown = set(payload) - allowed - {"id"}
    if unknown:
        raise PolicyError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}", "body")
    clean: dict[str, Any] = {}
    if "name" in payload:
        name = payload["name"]
        if not isinstance(name, str) or len(name) > 80 or has_control(name):
            raise PolicyError("name must be one line of at most 80 characters", "name")
        clean["name"] = name.strip()
    if "parent_id" in payload:
        clean["parent_id"] = _parent(session, payload["parent_id"], current)
    if "position" in payload:
        pos = payload["position"]
        if isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos <= 10_000:
            raise PolicyError("position must be a whole number from 0 to 10000", "position")
        clean["position"] = pos
    if "matchers" in payload:
        clean["matchers"] = clean_matchers(payload["matchers"])
    if "contact_points" in payload:
        points = payload["contact_points"]
        names = contact_points.channels_by_name(session)
        if not isinstance(points, list) or any(not isinstance(p, str) or p not in names for p in points):
            raise PolicyError(f"contact_points must name existing contact points: {', '.join(names)[:300]}",
                              "contact_points")
        clean["contact_points"] = list(dict.fromkeys(points))
    if "continue" in payload:
        if not isinstance(payload["continue"], bool):
            raise PolicyError("continue must be true or false", "continue")
        clean["continue_matching"] = payload["continue"]
    if "group_by" in payload:
        group_by = payload["group_by"]
        if not isinstance(group_by, list) or len(group_by) > MAX_GROUP_BY or any(
                not isinstance(g, str) or not LABEL_NAME.fullmatch(g) for g in group_by):
            raise PolicyError(f"group_by must list at most {MAX_GROUP_BY} label names", "group_by")
        clean["group_by"] = list(dict.fromkeys(group_by))
    for name in TIMINGS:
        if name in payload:
            clean[name] = _seconds(payload[name], name)
    return clean


def _parent(session: Session, raw: Any, current: NotificationPolicy | None) -> int | None:
    if raw is None:
        return None
    if (isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_ID
            or session.get(NotificationPolicy, raw) is None):  # past MAX_ID PostgreSQL refuses the lookup
        raise PolicyError("parent_id must be the id of an existing policy, or null", "parent_id")
    node, depth = session.get(NotificationPolicy, raw), 1
    while node is not None:  # a policy cannot move below itself
        if current is not None and node.id == current.id:
            raise PolicyError("a policy cannot be placed below itself", "parent_id")
        node = session.get(NotificationPolicy, node.parent_id) if node.parent_id else None
        depth += 1
    if depth > MAX_DEPTH:
        raise PolicyError(f"policies nest at most {MAX_DEPTH} deep", "parent_id")
    return raw


def get(session: Session, policy_id: int) -> NotificationPolicy:
    """One policy (404 otherwise)."""
    policy = session.get(NotificationPolicy, policy_id)
    if policy is None:
        raise PolicyError(f"policy {policy_id} does not exist", "id", 404)
    return policy


def create(session: Session, payload: dict[str, Any]) -> NotificationPolicy:
    """Add a policy (flushed); by default last among its siblings."""
    clean = validate(session, payload)
    if "position" not in clean:
        siblings = session.scalars(select(NotificationPolicy.position).where(
            NotificationPolicy.parent_id.is_(None) if clean.get("parent_id") is None
            else NotificationPolicy.parent_id == clean["parent_id"])).all()
        clean["position"] = max(siblings, default=-1) + 1
    policy = NotificationPolicy(**{"name": "", "matchers": [], "contact_points": [], "group_by": [], **clean})
    session.add(policy)
    session.flush()
    return policy


def update(session: Session, policy_id: int, payload: dict[str, Any]) -> NotificationPolicy:
    """Change some fields of a policy."""
    policy = get(session, policy_id)
    for key, value in validate(session, payload, policy).items():
        setattr(policy, key, value)
    session.flush()
    return policy


def delete(session: Session, policy_id: int) -> None:
    """Remove a policy and the policies below it."""
    policy = get(session, policy_id)
    doomed, frontier = [policy], [policy.id]
    while frontier:
        kids = list(session.scalars(select(NotificationPolicy).where(NotificationPolicy.parent_id.in_(frontier))))
        doomed += kids
        frontier = [k.id for k in kids]
    for node in reversed(doomed):
        session.delete(node)
        session.flush()


def to_dict(policy: NotificationPolicy) -> dict[str, Any]:
    """The API shape of a policy."""
    return {"id": policy.id, "name": policy.name, "parent_id": policy.parent_id, "position": policy.position,
            "matchers": list(policy.matchers or []), "contact_points": list(policy.contact_points or []),
            "continue": policy.continue_matching, "group_by": list(policy.group_by or []),
            **{t: getattr(policy, t) for t in TIMINGS}}


def list_all(session: Session, config: dict[str, Any]) -> dict[str, Any]:
    """The default policy and every stored one (flat, by parent and position)."""
    root = root_route(config, list(contact_points.BUILTIN))
    rows = session.scalars(select(NotificationPolicy).order_by(NotificationPolicy.parent_id,
                                                                NotificationPolicy.position, NotificationPolicy.id))
    return {"default": {"contact_points": "the rule's channels (webhook, email)",
                        **{t: getattr(root, t) for t in TIMINGS}},
            "policies": [to_dict(p) for p in rows]}


def preview(session: Session, config: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """Where an alert with ``labels`` (plus ``severity``, ``alertname``) would be sent."""
    from services.alerts.labels import LabelError, clean_labels

    unknown = set(payload) - {"labels", "severity", "alertname"}
    if unknown:
        raise PolicyError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}", "body")
    try:
        labels = clean_labels(payload.get("labels"))
    except LabelError as exc:
        raise PolicyError(str(exc), exc.field) from None
    for key in ("severity", "alertname"):
        value = payload.get(key, "")
        if not isinstance(value, str) or len(value) > 200 or has_control(value):
            raise PolicyError(f"{key} must be one line of at most 200 characters", key)
        labels[key] = value
    routes = route(session, config, labels, list(contact_points.BUILTIN))
    return {"routes": [{"policy_id": r.policy_id, "name": r.name, "channels": r.channels,
                        "group_by": r.group_by, "group_wait": r.group_wait,
                        "group_interval": r.group_interval, "repeat_interval": r.repeat_interval}
                       for r in routes]}
