"""alert operations: recurring maintenance windows as RFC 5545 RRULEs in a named time zone;
windows limited to service monitors (``monitor_ids``) and windows that keep alerts from opening (``mode``)

Weekly windows (``weekdays``, ``start_time``) become ``recurring`` ones with the equivalent rule,
``FREQ=WEEKLY;BYDAY=...`` from ``start_time`` local to the window's zone, starting a week before the
window was created (so every occurrence it covered before still counts). Existing windows keep
muting what they muted: no monitor limit ('[]'), mode 'mute'. Downgrading turns rules of
that exact shape back into weekly windows; other recurring windows keep their row but, having no
weekdays, mute nothing under the older release; "suppress" windows become muting ones and lose
their monitor limit.

Revision ID: 0008_alert_ops
Revises: 0004_service_monitors
Create Date: 2026-12-01 10:19:37.263000
"""
from __future__ import annotations

import re
from datetime import timedelta, timezone
from typing import Sequence, Union
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
import database

revision: str = '0008_alert_ops'
down_revision: Union[str, Sequence[str], None] = '0007_products'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKLY_RULE = re.compile(r"FREQ=WEEKLY;BYDAY=((?:MO|TU|WE|TH|FR|SA|SU)(?:,(?:MO|TU|WE|TH|FR|SA|SU))*)")


def _windows(*extra: sa.Column) -> sa.TableClause:
    """The columns this revision reads and writes, typed so both databases answer alike."""
    return sa.table("maintenance_windows", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                    sa.column("timezone", sa.String), sa.column("created_at", database.UTCDateTime()),
                    sa.column("rrule", sa.String), sa.column("dtstart", sa.String), *extra)


def upgrade() -> None:
    """Bring the schema from the previous revision to this one."""
    with op.batch_alter_table('maintenance_windows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rrule', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('dtstart', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('monitor_ids', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('mode', sa.String(length=16), server_default='mute', nullable=False))

    conn = op.get_bind()
    table = _windows(sa.column("weekdays", sa.JSON), sa.column("start_time", sa.String))
    for row in conn.execute(sa.select(table).where(table.c.kind == "weekly")).all():
        zone = ZoneInfo(row.timezone or "UTC")
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
        day = (created.astimezone(zone) - timedelta(days=7)).date()
        days = sorted({int(d) for d in (row.weekdays or []) if 0 <= int(d) <= 6}) or [0]
        conn.execute(table.update().where(table.c.id == row.id).values(
            kind="recurring", rrule="FREQ=WEEKLY;BYDAY=" + ",".join(DAYS[d] for d in days),
            dtstart=f"{day.isoformat()}T{row.start_time or '00:00'}"))

    with op.batch_alter_table('maintenance_windows', schema=None) as batch_op:
        batch_op.drop_column('weekdays')
        batch_op.drop_column('start_time')


def downgrade() -> None:
    """Undo ``upgrade``: weekly-shaped rules become weekly windows again."""
    with op.batch_alter_table('maintenance_windows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_time', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('weekdays', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    conn = op.get_bind()
    table = _windows(sa.column("weekdays", sa.JSON), sa.column("start_time", sa.String))
    for row in conn.execute(sa.select(table).where(table.c.kind == "recurring")).all():
        match = WEEKLY_RULE.fullmatch(row.rrule or "")
        if match and row.dtstart:
            conn.execute(table.update().where(table.c.id == row.id).values(
                kind="weekly", weekdays=[DAYS.index(d) for d in match.group(1).split(",")],
                start_time=row.dtstart[11:16]))

    with op.batch_alter_table('maintenance_windows', schema=None) as batch_op:
        batch_op.drop_column('mode')
        batch_op.drop_column('monitor_ids')
        batch_op.drop_column('dtstart')
        batch_op.drop_column('rrule')
