"""Chain settings (ACT-7): each chain version carries its workflow-level settings, and a run
names the stage entry it belongs to, one run per entry at most, so the enrollment check that
reserves a run cannot let two starts through.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null: the defaults (enabled, every entry, any time, stop on leaving), as before.
    op.add_column(
        "chain_versions",
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    # Null for runs started before runs were reserved per entry.
    op.add_column("chain_runs", sa.Column("stage_entry_id", sa.Integer(), nullable=True))
    op.create_index(
        "uq_chain_runs_lead_stage_entry",
        "chain_runs",
        ["lead_id", "stage_entry_id"],
        unique=True,
        postgresql_where=sa.text("stage_entry_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_chain_runs_lead_stage_entry", table_name="chain_runs")
    op.drop_column("chain_runs", "stage_entry_id")
    op.drop_column("chain_versions", "settings")
