"""Tables of alert routing: contact points, the policy tree, inhibition rules, maintenance windows."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, UTCDateTime, utcnow


class ContactPoint(Base):
    """Where notifications go: a webhook URL (Slack-compatible JSON) or a list of e-mail addresses."""

    __tablename__ = "contact_points"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "webhook" | "email"
    url: Mapped[str | None] = mapped_column(Text)
    addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_test: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"at", "delivered", "error"}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "settings": the URL / recipients follow ALERT_WEBHOOK_URL / SMTP_TO at every start (the two
    # default contact points until an admin edits them); "page": as last saved on the page.
    source: Mapped[str] = mapped_column(String(16), default="page", server_default="page")


class NotificationPolicy(Base):
    """One node of the policy tree under the default policy; siblings are tried by ``position``."""

    __tablename__ = "notification_policies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("notification_policies.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(80), default="")
    matchers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{label, op, value}]
    contact_points: Mapped[list[str]] = mapped_column(JSON, default=list)  # contact point names
    continue_matching: Mapped[bool] = mapped_column(Boolean, default=False)
    group_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Seconds; None inherits the parent's (the default policy's come from the configuration).
    group_wait: Mapped[int | None] = mapped_column(Integer)
    group_interval: Mapped[int | None] = mapped_column(Integer)
    repeat_interval: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InhibitionRule(Base):
    """While an alert matching ``source`` fires, alerts matching ``target`` with the same
    values of the ``equal`` labels send nothing (an alert never inhibits itself)."""

    __tablename__ = "inhibition_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    source_matchers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    target_matchers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    equal: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaintenanceWindow(Base):
    """A time when matching alerts stay visible (marked muted) but notify nobody.

    ``kind``: "once" (starts_at..ends_at), "recurring" (an RFC 5545 ``rrule`` from the local
    ``dtstart`` in ``timezone``, each occurrence lasting ``duration_minutes``), "manual" (active
    between a start and a stop call).
    """

    __tablename__ = "maintenance_windows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    matchers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [] = every alert
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=False)  # manual windows: started, not stopped
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rrule: Mapped[str | None] = mapped_column(String(300))  # "FREQ=WEEKLY;BYDAY=MO"
    dtstart: Mapped[str | None] = mapped_column(String(16))  # "YYYY-MM-DDTHH:MM", local to ``timezone``
    # Windows from before these columns existed mute every alert their matchers pick.
    monitor_ids: Mapped[list[int]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    mode: Mapped[str] = mapped_column(String(16), default="mute", server_default="mute")  # or "suppress"
