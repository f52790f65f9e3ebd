"""Remember which leads an activity was delivered to, so a repeated post answers the same.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "activities", sa.Column("delivered_lead_ids", sa.ARRAY(sa.Integer()), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("activities", "delivered_lead_ids")
