"""Guided actions: one open action per user and type, its items with the names and associations
they had at creation, and the feedback users give on a suggestion; deals remember when their
next steps last changed (GA-25).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guided_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_guided_actions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guided_actions")),
    )
    op.create_index(
        "uq_guided_actions_open_user_type",
        "guided_actions",
        ["user_id", "type"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "guided_action_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("object", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("associations", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=30), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rearmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["guided_actions.id"],
            name=op.f("fk_guided_action_items_action_id_guided_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guided_action_items")),
    )
    op.create_index(
        op.f("ix_guided_action_items_action_id"),
        "guided_action_items",
        ["action_id"],
        unique=False,
    )
    op.create_index(
        "uq_guided_action_items_open_object",
        "guided_action_items",
        ["action_id", "object", "object_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        "ix_guided_action_items_open_by_object",
        "guided_action_items",
        ["object", "object_id"],
        unique=False,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        "ix_guided_action_items_blocking_by_object",
        "guided_action_items",
        ["object", "object_id"],
        unique=False,
        postgresql_where=sa.text(
            "ended_at IS NOT NULL AND end_reason IN ('expired', 'done') AND rearmed_at IS NULL"
        ),
    )
    op.create_table(
        "guided_action_feedback",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("useful", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["guided_actions.id"],
            name=op.f("fk_guided_action_feedback_action_id_guided_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_guided_action_feedback_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_id", "user_id", name=op.f("pk_guided_action_feedback")),
    )
    op.add_column(
        "deals", sa.Column("next_steps_changed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("deals", "next_steps_changed_at")
    op.drop_table("guided_action_feedback")
    op.drop_index(
        "ix_guided_action_items_blocking_by_object",
        table_name="guided_action_items",
        postgresql_where=sa.text(
            "ended_at IS NOT NULL AND end_reason IN ('expired', 'done') AND rearmed_at IS NULL"
        ),
    )
    op.drop_index(
        "ix_guided_action_items_open_by_object",
        table_name="guided_action_items",
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.drop_index(
        "uq_guided_action_items_open_object",
        table_name="guided_action_items",
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.drop_index(op.f("ix_guided_action_items_action_id"), table_name="guided_action_items")
    op.drop_table("guided_action_items")
    op.drop_index(
        "uq_guided_actions_open_user_type",
        table_name="guided_actions",
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.drop_table("guided_actions")
