"""Guided actions (GA-1..28): one open action per user and type, listing its items (GA-3)."""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column, updated_at_column


class GuidedAction(Base):
    """A suggestion for one user of one type; ended (never shown again) once no item is open."""

    __tablename__ = "guided_actions"
    __table_args__ = (
        # GA-3: the items of one type for one user gather under one open action.
        Index(
            "uq_guided_actions_open_user_type",
            "user_id",
            "type",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))  # domain.guided.types.GuidedType
    category: Mapped[str] = mapped_column(String(20))  # domain.guided.types.Category
    created_at: Mapped[datetime] = created_at_column()
    # The earliest expiry of its open items; None: no open item has a window.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(30))


class GuidedActionItem(Base):
    """One object an action lists, with its name and associations as they were at creation."""

    __tablename__ = "guided_action_items"
    __table_args__ = (
        Index(
            "uq_guided_action_items_open_object",
            "action_id",
            "object",
            "object_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
        ),
        # A change to an object finds the open items that list it...
        Index(
            "ix_guided_action_items_open_by_object",
            "object",
            "object_id",
            postgresql_where=text("ended_at IS NULL"),
        ),
        # ...and the past ones that still keep a new one from being created.
        Index(
            "ix_guided_action_items_blocking_by_object",
            "object",
            "object_id",
            postgresql_where=text(
                "ended_at IS NOT NULL AND end_reason IN ('expired', 'done') AND rearmed_at IS NULL"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("guided_actions.id", ondelete="CASCADE"), index=True
    )
    object: Mapped[str] = mapped_column(String(20))  # domain.guided.types.ObjectKind
    object_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    # GA-4: {"contacts": [{"id", "name"}], "companies": [...], "deals": [...], "leads": [...]}.
    associations: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # `expired`, `criteria_failed`, `done`, `reassigned`.
    end_reason: Mapped[str | None] = mapped_column(String(30))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An item that ran out its window or was done keeps the same one from coming straight
    # back; set once its criteria were seen failing (domain.guided.rearms), it no longer does.
    rearmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GuidedActionFeedback(Base):
    """GA-8: "Yes, keep it coming" (useful) or "Not really", one answer per action and user."""

    __tablename__ = "guided_action_feedback"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("guided_actions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    useful: Mapped[bool]
    updated_at: Mapped[datetime] = updated_at_column()
