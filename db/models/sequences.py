"""Sales sequences and the contacts enrolled in them (WS-13's feed filter, GA-13)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column


class SalesSequence(Base):
    __tablename__ = "sequences"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class SequenceEnrollment(Base):
    """A contact enrolled in a sequence, sent by `user_id`; unenrolling deletes the row."""

    __tablename__ = "sequence_enrollments"
    # The primary key (sequence_id, contact_id) serves a sequence's contacts; this one whether
    # a contact is enrolled in any sequence (the feed's `enrolled` filter).
    __table_args__ = (Index("ix_sequence_enrollments_contact_id", "contact_id"),)

    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("sequences.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    enrolled_at: Mapped[datetime] = created_at_column()
