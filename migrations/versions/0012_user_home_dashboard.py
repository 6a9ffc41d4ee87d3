"""user home dashboard: the dashboard a user lands on after signing in

Existing users get none (null), so they land on the Overview as before.

Revision ID: 0012_user_home_dashboard
Revises: 0011_settings_contact_points
Create Date: 2026-12-01 15:10:00
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0012_user_home_dashboard'
down_revision: Union[str, Sequence[str], None] = '0011_settings_contact_points'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add ``users.home_dashboard_id`` (null: the Overview)."""
    # A plain ADD COLUMN on both databases (batch mode would copy ``users``: see downgrade).
    op.add_column('users', sa.Column('home_dashboard_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    """Undo ``upgrade``: everyone lands on the Overview again."""
    if op.get_bind().dialect.name == "sqlite":
        # Not batch mode: it would copy ``users`` and drop the old table, and that drop deletes
        # every login session through their ON DELETE CASCADE. SQLite drops a plain column
        # itself since 3.35.
        op.execute("ALTER TABLE users DROP COLUMN home_dashboard_id")
    else:
        op.drop_column('users', 'home_dashboard_id')
