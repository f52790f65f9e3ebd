from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column


class OutboxMessage(Base):
    """A Temporal call owed after a commit (start a lead workflow, deliver an activity).

    Written in the same transaction as the change it follows, so a crash between commit and
    the call loses nothing: the API relays its own rows at once and the worker relays leftovers.
    """

    __tablename__ = "outbox"
    # Each workflow's messages oldest first: whether a lead has one undelivered, and which.
    __table_args__ = (Index("ix_outbox_workflow_id_id", "workflow_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    workflow_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()
