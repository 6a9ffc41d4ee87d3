"""settings contact points: the settings' webhook and e-mail recipients become stored contact points

Before, alerts went to ALERT_WEBHOOK_URL and SMTP_TO straight from the settings. This stores
them as the contact points ``webhook`` and ``email`` (the names rules list in ``channels``),
marked ``source = 'settings'`` so they keep following the settings until an admin edits them.
Their notifications keep the channel names they had, so no notification row changes.

Revision ID: 0011_settings_contact_points
Revises: 0010_status_history
Create Date: 2026-12-01 14:20:00
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import database
from services.ops.migrations import revision_settings

revision: str = '0011_settings_contact_points'
down_revision: Union[str, Sequence[str], None] = '0010_status_history'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NAMES = ("webhook", "email")


def _points(settings) -> list[dict]:
    # The revision keeps its own reading of the two settings (as they were when it was written):
    # later changes to services.routing.default_points must not change what it did.
    url = str(settings.get("ALERT_WEBHOOK_URL") or "").strip() or None
    to = [a.strip() for a in str(settings.get("SMTP_TO") or "").split(",") if a.strip()]
    now = datetime.now(timezone.utc)
    return [{"name": "webhook", "kind": "webhook", "url": url, "addresses": [], "source": "settings",
             "created_at": now, "updated_at": now},
            {"name": "email", "kind": "email", "url": None, "addresses": to, "source": "settings",
             "created_at": now, "updated_at": now}]


def upgrade() -> None:
    """Add ``contact_points.source``; store the settings' webhook and recipients as contact points."""
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='page', nullable=False))
    points = sa.table('contact_points', sa.column('name', sa.String), sa.column('kind', sa.String),
                      sa.column('url', sa.Text), sa.column('addresses', sa.JSON),
                      sa.column('source', sa.String), sa.column('created_at', database.UTCDateTime()),
                      sa.column('updated_at', database.UTCDateTime()))
    bind = op.get_bind()
    taken = set(bind.execute(sa.select(points.c.name).where(points.c.name.in_(NAMES))).scalars())
    # Earlier releases refused these two names for stored contact points, so none is taken.
    rows = [p for p in _points(revision_settings(op.get_context().config)) if p["name"] not in taken]
    if rows:
        op.bulk_insert(points, rows)


def downgrade() -> None:
    """Undo ``upgrade``: the settings are again the only place of the two destinations."""
    op.execute(sa.text("DELETE FROM contact_points WHERE name IN ('webhook', 'email')"))
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.drop_column('source')
