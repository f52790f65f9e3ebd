"""People and the records the workspace reads: users' state, permissions and task settings;
meetings (with their contacts) and calls made from activities; sequences and enrollments;
sequence tasks; the workspace switch; indexes for timelines, schedules and task queues.

The activities' single-column indexes on user, contact, lead, deal and company give way to
(column, occurred_at, id) ones, which serve the same lookups and the newest-first reads.

Revision ID: 0008
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sequences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_sequences_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sequences")),
        sa.UniqueConstraint("name", name=op.f("uq_sequences_name")),
    )
    op.create_table(
        "workspace_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_workspace_settings_single_row")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_workspace_settings_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_settings")),
    )
    op.create_table(
        "sequence_enrollments",
        sa.Column("sequence_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column(
            "enrolled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_sequence_enrollments_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["sequence_id"],
            ["sequences.id"],
            name=op.f("fk_sequence_enrollments_sequence_id_sequences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sequence_enrollments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("sequence_id", "contact_id", name=op.f("pk_sequence_enrollments")),
    )
    op.create_index(
        "ix_sequence_enrollments_contact_id", "sequence_enrollments", ["contact_id"], unique=False
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("via_platform", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("outcome_revision", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_calls_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_calls_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.id"], name=op.f("fk_calls_deal_id_deals")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_calls_lead_id_leads")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_calls_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    op.create_index(op.f("ix_calls_contact_id"), "calls", ["contact_id"], unique=False)
    op.create_index(op.f("ix_calls_deal_id"), "calls", ["deal_id"], unique=False)
    op.create_index(op.f("ix_calls_lead_id"), "calls", ["lead_id"], unique=False)
    op.create_index("ix_calls_owner_started", "calls", ["owner_id", "started_at"], unique=False)
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), server_default="meeting", nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("meeting_url", sa.String(length=2000), nullable=True),
        sa.Column(
            "attendees",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("notes", sa.String(), nullable=True),
        sa.Column("booked_by_contact", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("calendar_meeting_id", sa.String(length=200), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_revision", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_meetings_company_id_companies")
        ),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.id"], name=op.f("fk_meetings_deal_id_deals")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_meetings_lead_id_leads")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_meetings_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    op.create_index(op.f("ix_meetings_company_id"), "meetings", ["company_id"], unique=False)
    op.create_index(op.f("ix_meetings_deal_id"), "meetings", ["deal_id"], unique=False)
    op.create_index(op.f("ix_meetings_lead_id"), "meetings", ["lead_id"], unique=False)
    op.create_index("ix_meetings_owner_start", "meetings", ["owner_id", "start_at"], unique=False)
    op.create_index(
        "uq_meetings_owner_calendar_meeting_id",
        "meetings",
        ["owner_id", "calendar_meeting_id"],
        unique=True,
        postgresql_nulls_not_distinct=True,
        postgresql_where=sa.text("calendar_meeting_id IS NOT NULL"),
    )
    op.create_table(
        "meeting_contacts",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_meeting_contacts_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_contacts_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_id", "contact_id", name=op.f("pk_meeting_contacts")),
    )
    op.create_index(
        "ix_meeting_contacts_contact_meeting",
        "meeting_contacts",
        ["contact_id", "meeting_id"],
        unique=False,
    )
    op.add_column("activities", sa.Column("meeting_id", sa.Integer(), nullable=True))
    op.add_column("activities", sa.Column("call_id", sa.Integer(), nullable=True))
    op.drop_index(op.f("ix_activities_company_id"), table_name="activities")
    op.drop_index(op.f("ix_activities_contact_id"), table_name="activities")
    op.drop_index(op.f("ix_activities_deal_id"), table_name="activities")
    op.drop_index(op.f("ix_activities_lead_id"), table_name="activities")
    op.drop_index(op.f("ix_activities_user_id"), table_name="activities")
    op.create_index(op.f("ix_activities_call_id"), "activities", ["call_id"], unique=False)
    op.create_index(
        "ix_activities_company_time",
        "activities",
        ["company_id", "occurred_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_activities_contact_time",
        "activities",
        ["contact_id", "occurred_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_activities_deal_time", "activities", ["deal_id", "occurred_at", "id"], unique=False
    )
    op.create_index(
        "ix_activities_lead_time", "activities", ["lead_id", "occurred_at", "id"], unique=False
    )
    op.create_index(op.f("ix_activities_meeting_id"), "activities", ["meeting_id"], unique=False)
    op.create_index(
        "ix_activities_user_time", "activities", ["user_id", "occurred_at", "id"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_activities_call_id_calls"), "activities", "calls", ["call_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_activities_meeting_id_meetings"), "activities", "meetings", ["meeting_id"], ["id"]
    )
    op.add_column("tasks", sa.Column("sequence_id", sa.Integer(), nullable=True))
    op.create_index(
        "ix_tasks_owner_open_due",
        "tasks",
        ["owner_id", "due_at", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(op.f("ix_tasks_sequence_id"), "tasks", ["sequence_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_tasks_sequence_id_sequences"),
        "tasks",
        "sequences",
        ["sequence_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column("users", sa.Column("active", sa.Boolean(), server_default="true", nullable=False))
    op.add_column(
        "users",
        sa.Column("deal_visibility", sa.String(length=10), server_default="all", nullable=False),
    )
    op.add_column(
        "users",
        sa.Column(
            "activity_visibility", sa.String(length=10), server_default="all", nullable=False
        ),
    )
    op.add_column(
        "users",
        sa.Column(
            "prompt_follow_up_on_complete", sa.Boolean(), server_default="true", nullable=False
        ),
    )
    op.add_column(
        "users",
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("users", "updated_at")
    op.drop_column("users", "prompt_follow_up_on_complete")
    op.drop_column("users", "activity_visibility")
    op.drop_column("users", "deal_visibility")
    op.drop_column("users", "active")
    op.drop_constraint(op.f("fk_tasks_sequence_id_sequences"), "tasks", type_="foreignkey")
    op.drop_index(op.f("ix_tasks_sequence_id"), table_name="tasks")
    op.drop_index(
        "ix_tasks_owner_open_due", table_name="tasks", postgresql_where=sa.text("status = 'open'")
    )
    op.drop_column("tasks", "sequence_id")
    op.drop_constraint(op.f("fk_activities_meeting_id_meetings"), "activities", type_="foreignkey")
    op.drop_constraint(op.f("fk_activities_call_id_calls"), "activities", type_="foreignkey")
    op.drop_index("ix_activities_user_time", table_name="activities")
    op.drop_index(op.f("ix_activities_meeting_id"), table_name="activities")
    op.drop_index("ix_activities_lead_time", table_name="activities")
    op.drop_index("ix_activities_deal_time", table_name="activities")
    op.drop_index("ix_activities_contact_time", table_name="activities")
    op.drop_index("ix_activities_company_time", table_name="activities")
    op.drop_index(op.f("ix_activities_call_id"), table_name="activities")
    op.create_index(op.f("ix_activities_user_id"), "activities", ["user_id"], unique=False)
    op.create_index(op.f("ix_activities_lead_id"), "activities", ["lead_id"], unique=False)
    op.create_index(op.f("ix_activities_deal_id"), "activities", ["deal_id"], unique=False)
    op.create_index(op.f("ix_activities_contact_id"), "activities", ["contact_id"], unique=False)
    op.create_index(op.f("ix_activities_company_id"), "activities", ["company_id"], unique=False)
    op.drop_column("activities", "call_id")
    op.drop_column("activities", "meeting_id")
    op.drop_index("ix_meeting_contacts_contact_meeting", table_name="meeting_contacts")
    op.drop_table("meeting_contacts")
    op.drop_index(
        "uq_meetings_owner_calendar_meeting_id",
        table_name="meetings",
        postgresql_nulls_not_distinct=True,
        postgresql_where=sa.text("calendar_meeting_id IS NOT NULL"),
    )
    op.drop_index("ix_meetings_owner_start", table_name="meetings")
    op.drop_index(op.f("ix_meetings_lead_id"), table_name="meetings")
    op.drop_index(op.f("ix_meetings_deal_id"), table_name="meetings")
    op.drop_index(op.f("ix_meetings_company_id"), table_name="meetings")
    op.drop_table("meetings")
    op.drop_index("ix_calls_owner_started", table_name="calls")
    op.drop_index(op.f("ix_calls_lead_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_deal_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_contact_id"), table_name="calls")
    op.drop_table("calls")
    op.drop_index("ix_sequence_enrollments_contact_id", table_name="sequence_enrollments")
    op.drop_table("sequence_enrollments")
    op.drop_table("workspace_settings")
    op.drop_table("sequences")
