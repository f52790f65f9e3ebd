"""The event that made automation create a lead, on the lead's `created` history row (AUT-13).

A contact's lifecycle-stage change (create_lead_on_lifecycle) or a disqualifying transition of
another lead (follow_up_on_disqualify), as JSON: the lead history reads it back as
`caused_by`. Rows from before, and leads people created, have none.

Revision ID: 0009
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "lead_stage_history",
        sa.Column("caused_by", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("lead_stage_history", "caused_by")
