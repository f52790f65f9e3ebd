"""Indexes for the workspace's reads.

The feed (WS-13) groups one user's activities of the past year by contact: with each
activity's contact and type held in ix_activities_user_time itself, that is an index-only
scan of the user's entries instead of a heap visit per activity (16k pages for a user with
35k activities: 360 ms, against 10 ms).

The summary's insights count the tasks a user completed this week: a partial index on
(owner_id, completed_at) of completed tasks reads that week alone, not every completed task
the user ever had.

The schedule reads the meetings that overlap a window: starting before its end and ending
after its start. (owner_id, start_at) alone reads every earlier meeting of the user to find
the few still running; with (owner_id, end_at) the planner takes whichever side is narrower,
so a view of this month costs the same after years of history.

The leads board counts a user's leads per stage and lists each stage's newest: (owner_id,
stage_id, id) answers both from the index, where ix_leads_owner_id visited every lead of the
user and the newest-first walk filtered the whole table backwards. It replaces that index,
whose lookups it serves as well.

Revision ID: 0010
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_leads_owner_id", table_name="leads")
    op.create_index("ix_leads_owner_stage", "leads", ["owner_id", "stage_id", "id"], unique=False)
    op.create_index("ix_meetings_owner_end", "meetings", ["owner_id", "end_at"], unique=False)
    op.create_index(
        "ix_tasks_owner_completed",
        "tasks",
        ["owner_id", "completed_at"],
        unique=False,
        postgresql_where=sa.text("status = 'completed'"),
    )
    op.drop_index("ix_activities_user_time", table_name="activities")
    op.create_index(
        "ix_activities_user_time",
        "activities",
        ["user_id", "occurred_at", "id"],
        unique=False,
        postgresql_include=["contact_id", "type"],
    )


def downgrade() -> None:
    op.drop_index("ix_leads_owner_stage", table_name="leads")
    op.create_index("ix_leads_owner_id", "leads", ["owner_id"], unique=False)
    op.drop_index("ix_meetings_owner_end", table_name="meetings")
    op.drop_index(
        "ix_tasks_owner_completed",
        table_name="tasks",
        postgresql_where=sa.text("status = 'completed'"),
    )
    op.drop_index("ix_activities_user_time", table_name="activities")
    op.create_index(
        "ix_activities_user_time", "activities", ["user_id", "occurred_at", "id"], unique=False
    )
