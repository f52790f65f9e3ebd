"""Outbox messages per workflow, oldest first: an index for delivering each lead's in order.

The API asks whether a lead has an undelivered message before signalling a new one, and the
relay which message of a workflow comes first; both read this index.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_workflow_id_id", "outbox", ["workflow_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_workflow_id_id", table_name="outbox")
