"""monitor storage: a compact response-time histogram on the monitor rollups, one index fewer

Revision ID: 0006_monitor_storage
Revises: 0004_service_monitors
Create Date: 2026-12-01 10:40:00
"""
from __future__ import annotations

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0006_monitor_storage'
down_revision: Union[str, Sequence[str], None] = "0005_metric_rules"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Bring the schema from the previous revision to this one."""
    # A nullable column: existing buckets simply have no histogram (no p50/p95 for their hours).
    with op.batch_alter_table('monitor_rollups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latency_hist', sa.String(length=400), nullable=True))
        # The daily prune scans instead: this index cost ~45 bytes on every rollup row.
        batch_op.drop_index('ix_monitor_rollups_res_start')


def downgrade() -> None:
    """Return the schema to the previous revision."""
    with op.batch_alter_table('monitor_rollups', schema=None) as batch_op:
        batch_op.create_index('ix_monitor_rollups_res_start', ['resolution', 'bucket_start'], unique=False)
        batch_op.drop_column('latency_hist')
