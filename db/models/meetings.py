"""Meetings and calls: records made from the activities services post (and by hand)."""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column, updated_at_column


class Meeting(Base):
    """A meeting or a busy block; a calendar's meeting id keys it per owner."""

    __tablename__ = "meetings"
    __table_args__ = (
        # The schedule and the meeting guided actions read a user's meetings by start time.
        Index("ix_meetings_owner_start", "owner_id", "start_at"),
        # ...and the schedule those still running in a window: the planner takes the narrower.
        Index("ix_meetings_owner_end", "owner_id", "end_at"),
        # One record per calendar meeting in each owner's calendar: the same meeting in two
        # users' calendars is two records, each on its owner's schedule.
        Index(
            "uq_meetings_owner_calendar_meeting_id",
            "owner_id",
            "calendar_meeting_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
            postgresql_where=text("calendar_meeting_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10), default="meeting", server_default="meeting")
    title: Mapped[str] = mapped_column(String(300))
    # `start`/`end` in the API; `end` is a reserved word in SQL, so the columns are named apart.
    start: Mapped[datetime] = mapped_column("start_at", DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column("end_at", DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(500))
    meeting_url: Mapped[str | None] = mapped_column(String(2000))
    # [{"email", "name"}], as the calendar lists them.
    attendees: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default="[]"
    )
    notes: Mapped[str | None]
    booked_by_contact: Mapped[bool] = mapped_column(default=False, server_default="false")
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    calendar_meeting_id: Mapped[str | None] = mapped_column(String(200))
    # `occurred_at` of the calendar post last applied: an older post arriving late changes
    # nothing about the meeting itself.
    synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Outcomes set since creation; numbers the event id of each outcome's activity.
    outcome_revision: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class MeetingContact(Base):
    """The contacts a meeting is with."""

    __tablename__ = "meeting_contacts"
    # "Contacts with meetings today" and a contact's meetings read it by contact.
    __table_args__ = (Index("ix_meeting_contacts_contact_meeting", "contact_id", "meeting_id"),)

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), primary_key=True)


class Call(Base):
    """A call, made from a `call` activity; its outcome may be logged later."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_owner_started", "owner_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str | None] = mapped_column(String(30))
    outcome: Mapped[str | None] = mapped_column(String(40))
    via_platform: Mapped[bool] = mapped_column(default=False, server_default="false")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    outcome_revision: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
