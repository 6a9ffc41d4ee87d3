"""The dashboards table: one row per dashboard, its widgets kept as one JSON model.

The model (widgets with ``gridPos``, queries and options) is validated whole on every write
(``services.dashboards.model``), so what is stored is always something the panel can run.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, UTCDateTime, utcnow

VISIBILITIES = ("private", "roles", "public")


class Dashboard(Base):
    """A dashboard: owner, title, who may see it, and its widgets."""

    __tablename__ = "dashboards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A removed owner leaves the dashboard to the admins rather than deleting it.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(120))
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    shared_roles: Mapped[list] = mapped_column(JSON, default=list)
    # Public link's secret; None while the dashboard is not public (revoking clears it).
    public_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    model: Mapped[dict] = mapped_column(JSON, default=dict)
    # The layout made on first start; at most one row carries it.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Every UPDATE says "WHERE version = the one read" and moves it on by one: of two saves
    # from the same version, the second changes no row and is answered 409, never merged.
    __mapper_args__ = {"version_id_col": version}
