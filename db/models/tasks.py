from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column, updated_at_column


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_owner_status_due", "owner_id", "status", "due_at"),
        # The workspace's today/overdue/tomorrow buckets and queues read a user's open tasks by
        # due time; completed tasks, most of them in time, stay out of this one.
        Index(
            "ix_tasks_owner_open_due",
            "owner_id",
            "due_at",
            "id",
            postgresql_where=text("status = 'open'"),
        ),
        # The summary's insights: the tasks a user completed this week.
        Index(
            "ix_tasks_owner_completed",
            "owner_id",
            "completed_at",
            postgresql_where=text("status = 'completed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(30), default="todo", server_default="todo")
    priority: Mapped[str] = mapped_column(String(10), default="none", server_default="none")
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    # A sequence task (GA-13): a step of the sequence the task's contact is enrolled in.
    sequence_id: Mapped[int | None] = mapped_column(
        ForeignKey("sequences.id", ondelete="SET NULL"), index=True
    )
    # Chains create tasks under `<workflow id>/<action id>/<seq>`: a retry finds its task.
    idempotency_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
