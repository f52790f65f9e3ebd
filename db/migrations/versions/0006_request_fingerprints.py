"""Idempotency keys per caller, with a fingerprint of the request they were first used with.

A lead's client key is stored as `user/<creator id>/<key>` so one caller's key never finds
another caller's lead (automation keys such as `follow-up/...` have no creator and keep their
form); the column grows to hold the prefix. Leads and activities keep the SHA-256 of the
request that first used their key, so a reuse with another body is refused rather than
answered with the first result. Rows from before have no fingerprint and replay as before.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "leads",
        "idempotency_key",
        type_=sa.String(300),
        existing_type=sa.String(200),
        existing_nullable=True,
    )
    op.execute(
        "UPDATE leads SET idempotency_key = 'user/' || created_by_id || '/' || idempotency_key "
        "WHERE idempotency_key IS NOT NULL AND created_by_id IS NOT NULL"
    )
    op.add_column("leads", sa.Column("request_fingerprint", sa.String(64), nullable=True))
    op.add_column("activities", sa.Column("request_fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("activities", "request_fingerprint")
    op.drop_column("leads", "request_fingerprint")
    # Back to one namespace: the first lead of a key shared by two callers keeps it.
    op.execute(
        "UPDATE leads SET idempotency_key = NULL WHERE id IN ("
        " SELECT id FROM ("
        "  SELECT id, row_number() OVER (PARTITION BY substr(idempotency_key,"
        "   length('user/' || created_by_id || '/') + 1) ORDER BY id) AS n"
        "  FROM leads WHERE created_by_id IS NOT NULL AND idempotency_key IS NOT NULL"
        " ) ranked WHERE n > 1)"
    )
    op.execute(
        "UPDATE leads SET idempotency_key ="
        " substr(idempotency_key, length('user/' || created_by_id || '/') + 1)"
        " WHERE idempotency_key IS NOT NULL AND created_by_id IS NOT NULL"
    )
    op.alter_column(
        "leads",
        "idempotency_key",
        type_=sa.String(200),
        existing_type=sa.String(300),
        existing_nullable=True,
    )
