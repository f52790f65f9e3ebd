"""Static contact lists and their members: a contact is in a list until it is taken out
(chain actions `add_to_list` / `remove_from_list`); nothing recomputes membership."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column


class ContactList(Base):
    __tablename__ = "contact_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class ContactListMember(Base):
    """One contact in one list; the primary key makes adding twice one membership."""

    __tablename__ = "contact_list_members"
    # The primary key (list_id, contact_id) pages a list's members; this one finds a
    # contact's lists.
    __table_args__ = (Index("ix_contact_list_members_contact_id", "contact_id"),)

    list_id: Mapped[int] = mapped_column(
        ForeignKey("contact_lists.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = created_at_column()
