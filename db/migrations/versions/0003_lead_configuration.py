"""Lead configuration: settings, disqualification reasons, lead types, pipeline automation,
contact lifecycle changes and the configuration audit log.

Stages become soft-deletable (`removed_at`) so lead history keeps naming a deleted stage; their
label is unique only among the stages in use. A fresh database gets the default settings, the
default reasons and lead types, and the templated rules of every lead pipeline.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here rather than imported: a migration must keep doing what it did when it shipped.
DEFAULT_REASONS = (
    "No budget",
    "No authority",
    "No need",
    "Bad timing",
    "Chose a competitor",
    "Unresponsive",
    "Bad contact data",
)
DEFAULT_LEAD_TYPES = (
    ("new_business", "New business"),
    ("upsell", "Upsell"),
    ("re_engagement", "Re-engagement"),
)
OUTREACH_EVENTS = ["email_sent", "linkedin_message", "call", "meeting_scheduled"]
CONNECT_EVENTS = ["email_reply", "meeting_booked_by_contact", "call_connected"]


def upgrade() -> None:
    op.create_table(
        "disqualification_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disqualification_reasons")),
    )
    op.create_index(
        "uq_disqualification_reasons_active_label",
        "disqualification_reasons",
        ["label"],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_table(
        "lead_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_types")),
        sa.UniqueConstraint("key", name="uq_lead_types_key"),
    )
    op.create_index(
        "uq_lead_types_active_label",
        "lead_types",
        ["label"],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_log_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_entity_id", "audit_log", ["entity", "id"], unique=False)
    op.create_table(
        "lead_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "create_lead_on_lifecycle_enabled",
            sa.Boolean(),
            server_default="false",
            nullable=False,
        ),
        sa.Column(
            "create_lead_on_lifecycle_stages",
            sa.ARRAY(sa.String(length=40)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "set_lifecycle_on_associate_enabled",
            sa.Boolean(),
            server_default="false",
            nullable=False,
        ),
        sa.Column("set_lifecycle_on_associate_stage", sa.String(length=40), nullable=True),
        sa.Column("require_deal_on_qualify", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "require_disqualification_reason",
            sa.Boolean(),
            server_default="false",
            nullable=False,
        ),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_lead_settings_single_row")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_lead_settings_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_settings")),
    )
    op.create_table(
        "pipeline_automation",
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("follow_up_enabled", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("follow_up_lead_type", sa.String(length=50), nullable=True),
        sa.Column(
            "follow_up_reason_ids", sa.ARRAY(sa.Integer()), server_default="{}", nullable=False
        ),
        sa.Column("outreach_enabled", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("outreach_from_stage_id", sa.Integer(), nullable=True),
        sa.Column("outreach_to_stage_id", sa.Integer(), nullable=True),
        sa.Column("outreach_events", sa.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("connect_enabled", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("connect_from_stage_id", sa.Integer(), nullable=True),
        sa.Column("connect_to_stage_id", sa.Integer(), nullable=True),
        sa.Column("connect_events", sa.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["connect_from_stage_id"],
            ["stages.id"],
            name=op.f("fk_pipeline_automation_connect_from_stage_id_stages"),
        ),
        sa.ForeignKeyConstraint(
            ["connect_to_stage_id"],
            ["stages.id"],
            name=op.f("fk_pipeline_automation_connect_to_stage_id_stages"),
        ),
        sa.ForeignKeyConstraint(
            ["outreach_from_stage_id"],
            ["stages.id"],
            name=op.f("fk_pipeline_automation_outreach_from_stage_id_stages"),
        ),
        sa.ForeignKeyConstraint(
            ["outreach_to_stage_id"],
            ["stages.id"],
            name=op.f("fk_pipeline_automation_outreach_to_stage_id_stages"),
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_automation_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pipeline_id", name=op.f("pk_pipeline_automation")),
    )
    op.create_table(
        "contact_lifecycle_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(length=40), nullable=True),
        sa.Column("to_stage", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_lifecycle_changes_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_lifecycle_changes")),
    )
    op.create_index(
        op.f("ix_contact_lifecycle_changes_contact_id"),
        "contact_lifecycle_changes",
        ["contact_id"],
        unique=False,
    )

    # Reason ids were never checked before this revision: drop any that point nowhere.
    op.execute("UPDATE leads SET disqualification_reason_id = NULL")
    op.execute("UPDATE lead_stage_history SET disqualification_reason_id = NULL")
    op.create_foreign_key(
        "fk_lead_stage_history_disqualification_reason_id",
        "lead_stage_history",
        "disqualification_reasons",
        ["disqualification_reason_id"],
        ["id"],
    )
    op.create_foreign_key(
        "fk_leads_disqualification_reason_id",
        "leads",
        "disqualification_reasons",
        ["disqualification_reason_id"],
        ["id"],
    )

    op.add_column("stages", sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint("uq_stages_pipeline_label", "stages", type_="unique")
    op.create_index(
        "uq_stages_pipeline_label",
        "stages",
        ["pipeline_id", "label"],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    _seed()


def _seed() -> None:
    op.execute("INSERT INTO lead_settings (id) VALUES (1)")
    reasons = sa.table(
        "disqualification_reasons", sa.column("label", sa.String), sa.column("position", sa.Integer)
    )
    op.bulk_insert(reasons, [{"label": r, "position": i} for i, r in enumerate(DEFAULT_REASONS)])
    lead_types = sa.table("lead_types", sa.column("key", sa.String), sa.column("label", sa.String))
    op.bulk_insert(lead_types, [{"key": k, "label": label} for k, label in DEFAULT_LEAD_TYPES])

    # Every lead pipeline gets its templated rules: outreach moves the first open stage to the
    # second, connect the second to the third (New -> Attempting -> Connected by default).
    conn = op.get_bind()
    open_stages: dict[int, list[int]] = {}
    for pipeline_id, kind, stage_id in conn.execute(
        sa.text(
            "SELECT p.id, s.kind, s.id FROM pipelines p LEFT JOIN stages s ON s.pipeline_id = p.id"
            " WHERE p.object = 'lead' ORDER BY p.id, s.position"
        )
    ):
        ids = open_stages.setdefault(pipeline_id, [])
        if kind == "open":
            ids.append(stage_id)
    automation = sa.table(
        "pipeline_automation",
        sa.column("pipeline_id", sa.Integer),
        sa.column("outreach_enabled", sa.Boolean),
        sa.column("outreach_from_stage_id", sa.Integer),
        sa.column("outreach_to_stage_id", sa.Integer),
        sa.column("outreach_events", sa.ARRAY(sa.String)),
        sa.column("connect_enabled", sa.Boolean),
        sa.column("connect_from_stage_id", sa.Integer),
        sa.column("connect_to_stage_id", sa.Integer),
        sa.column("connect_events", sa.ARRAY(sa.String)),
    )
    rows = []
    for pipeline_id, ids in open_stages.items():
        outreach = len(ids) >= 2
        connect = len(ids) >= 3
        rows.append(
            {
                "pipeline_id": pipeline_id,
                "outreach_enabled": outreach,
                "outreach_from_stage_id": ids[0] if outreach else None,
                "outreach_to_stage_id": ids[1] if outreach else None,
                "outreach_events": OUTREACH_EVENTS,
                "connect_enabled": connect,
                "connect_from_stage_id": ids[1] if connect else None,
                "connect_to_stage_id": ids[2] if connect else None,
                "connect_events": CONNECT_EVENTS,
            }
        )
    if rows:
        op.bulk_insert(automation, rows)


def downgrade() -> None:
    # Deleted stages cannot come back as they were; drop them with the column that hid them
    # (history rows naming them go too, as they would have had the stage been hard-deleted).
    op.execute(
        "DELETE FROM lead_stage_history WHERE from_stage_id IN"
        " (SELECT id FROM stages WHERE removed_at IS NOT NULL)"
        " OR to_stage_id IN (SELECT id FROM stages WHERE removed_at IS NOT NULL)"
    )
    op.execute("DELETE FROM stages WHERE removed_at IS NOT NULL")
    op.drop_index(
        "uq_stages_pipeline_label",
        table_name="stages",
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_unique_constraint("uq_stages_pipeline_label", "stages", ["pipeline_id", "label"])
    op.drop_column("stages", "removed_at")
    op.drop_constraint("fk_leads_disqualification_reason_id", "leads", type_="foreignkey")
    op.drop_constraint(
        "fk_lead_stage_history_disqualification_reason_id",
        "lead_stage_history",
        type_="foreignkey",
    )
    op.drop_index(
        op.f("ix_contact_lifecycle_changes_contact_id"), table_name="contact_lifecycle_changes"
    )
    op.drop_table("contact_lifecycle_changes")
    op.drop_table("pipeline_automation")
    op.drop_table("lead_settings")
    op.drop_index("ix_audit_log_entity_id", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(
        "uq_lead_types_active_label",
        table_name="lead_types",
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.drop_table("lead_types")
    op.drop_index(
        "uq_disqualification_reasons_active_label",
        table_name="disqualification_reasons",
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.drop_table("disqualification_reasons")
