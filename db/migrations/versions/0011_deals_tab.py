"""The deals tab and deal insights: deal stage and close date history, stage norms, the time
each deal entered its stage (existing deals: their creation), saved deal columns per user, the
account's AI-assistant switch, kept deal scores and insight feedback.

Revision ID: 0011
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_analysis", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_ai_settings_single_row")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_ai_settings_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_settings")),
    )
    op.create_table(
        "user_deal_columns",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("columns", sa.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_deal_columns_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_deal_columns")),
    )
    op.create_table(
        "deal_stage_norms",
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("median_seconds", sa.Float(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["stages.id"],
            name=op.f("fk_deal_stage_norms_stage_id_stages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stage_id", name=op.f("pk_deal_stage_norms")),
    )
    op.create_table(
        "deal_close_date_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_deal_close_date_changes_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_deal_close_date_changes_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_close_date_changes")),
    )
    op.create_index(
        "ix_deal_close_date_changes_deal_at",
        "deal_close_date_changes",
        ["deal_id", "at"],
        unique=False,
    )
    op.create_table(
        "deal_insight_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.String(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_deal_insight_feedback_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_deal_insight_feedback_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_insight_feedback")),
    )
    op.create_index(
        op.f("ix_deal_insight_feedback_deal_id"), "deal_insight_feedback", ["deal_id"], unique=False
    )
    op.create_table(
        "deal_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=30), nullable=False),
        sa.Column("scored_on", sa.Date(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("factors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deal_scores_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_scores")),
    )
    op.create_index(
        "uq_deal_scores_deal_scope_day",
        "deal_scores",
        ["deal_id", "scope", "scored_on"],
        unique=True,
    )
    op.create_table(
        "deal_stage_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("from_stage_id", sa.Integer(), nullable=False),
        sa.Column("to_stage_id", sa.Integer(), nullable=False),
        sa.Column("seconds_in_from_stage", sa.Float(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_deal_stage_changes_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_deal_stage_changes_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_stage_id"],
            ["stages.id"],
            name=op.f("fk_deal_stage_changes_from_stage_id_stages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_stage_id"],
            ["stages.id"],
            name=op.f("fk_deal_stage_changes_to_stage_id_stages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_stage_changes")),
    )
    op.create_index(
        "ix_deal_stage_changes_deal_at", "deal_stage_changes", ["deal_id", "at"], unique=False
    )
    op.create_index(
        "ix_deal_stage_changes_from_stage_at",
        "deal_stage_changes",
        ["from_stage_id", "at"],
        unique=False,
        postgresql_include=["seconds_in_from_stage"],
    )
    op.add_column(
        "deals",
        sa.Column(
            "stage_entered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    # No history says when an existing deal entered its stage: its creation is the best bound.
    op.execute("UPDATE deals SET stage_entered_at = created_at")


def downgrade() -> None:
    op.drop_column("deals", "stage_entered_at")
    op.drop_index(
        "ix_deal_stage_changes_from_stage_at",
        table_name="deal_stage_changes",
        postgresql_include=["seconds_in_from_stage"],
    )
    op.drop_index("ix_deal_stage_changes_deal_at", table_name="deal_stage_changes")
    op.drop_table("deal_stage_changes")
    op.drop_index("uq_deal_scores_deal_scope_day", table_name="deal_scores")
    op.drop_table("deal_scores")
    op.drop_index(op.f("ix_deal_insight_feedback_deal_id"), table_name="deal_insight_feedback")
    op.drop_table("deal_insight_feedback")
    op.drop_index("ix_deal_close_date_changes_deal_at", table_name="deal_close_date_changes")
    op.drop_table("deal_close_date_changes")
    op.drop_table("deal_stage_norms")
    op.drop_table("user_deal_columns")
    op.drop_table("ai_settings")
