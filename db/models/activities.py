from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column


class Activity(Base):
    """A sales activity posted by a service; `event_id` makes every post idempotent."""

    __tablename__ = "activities"
    # Timelines and feeds read one record's (or one user's) activities newest first: each
    # index serves the filter and the order (occurred_at, id) at once, and its lookups by id.
    __table_args__ = (
        # The feed groups a user's year by contact from this index alone (WS-13).
        Index(
            "ix_activities_user_time",
            "user_id",
            "occurred_at",
            "id",
            postgresql_include=["contact_id", "type"],
        ),
        Index("ix_activities_contact_time", "contact_id", "occurred_at", "id"),
        Index("ix_activities_lead_time", "lead_id", "occurred_at", "id"),
        Index("ix_activities_deal_time", "deal_id", "occurred_at", "id"),
        Index("ix_activities_company_time", "company_id", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    # The meeting or call record the activity made, changed or set the outcome of.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    # The leads the activity was delivered to when first posted (a repeat answers the same).
    delivered_lead_ids: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))
    # SHA-256 of the request first posted with this event_id: a repeat must match it.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
