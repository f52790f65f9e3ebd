"""Stage action chains: immutable versions, comments by action id, runs and their steps, and the
records that make each chain side effect happen once (emails, webhook calls, other effects)."""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column


class ChainVersion(Base):
    """One immutable version of a stage's chain; the highest version is in force. Runs name the
    version they started with, so rows are never updated or deleted while their stage exists."""

    __tablename__ = "chain_versions"
    __table_args__ = (
        UniqueConstraint("stage_id", "version", name="uq_chain_versions_stage_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    version: Mapped[int]
    # The action tree as `domain.chains.dump_actions` writes it (no comments).
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # Workflow-level settings as `domain.chains.settings.dump_settings` writes them (ACT-7);
    # null for the defaults.
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class ChainComment(Base):
    """A comment on an action (ACT-5), kept by action id so it shows in every later version
    without making a version of its own."""

    __tablename__ = "chain_comments"
    __table_args__ = (Index("ix_chain_comments_stage_action", "stage_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    action_id: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()


class ChainRun(Base):
    """One run of a stage chain for a lead: a StageChainWorkflow execution. A run is reserved
    (`pending`) when its stage entry enrolls, at most one per entry."""

    __tablename__ = "chain_runs"
    __table_args__ = (
        Index(
            "uq_chain_runs_lead_stage_entry",
            "lead_id",
            "stage_entry_id",
            unique=True,
            postgresql_where=text("stage_entry_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    version: Mapped[int]
    workflow_id: Mapped[str] = mapped_column(String(200), unique=True)
    # The lead stage change that started it; null for runs older than reservations.
    stage_entry_id: Mapped[int | None]
    # pending | running | completed | failed | stopped
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = created_at_column()
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChainStep(Base):
    """One action taken by a run; `seq` tells repeats of one action apart (0 for the first)."""

    __tablename__ = "chain_steps"
    __table_args__ = (
        UniqueConstraint("run_id", "action_id", "seq", name="uq_chain_steps_run_action_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("chain_runs.id", ondelete="CASCADE"))
    action_id: Mapped[str] = mapped_column(String(20))
    seq: Mapped[int] = mapped_column(default=0, server_default="0")
    type: Mapped[str] = mapped_column(String(30))
    # pending | running | waiting | completed | failed | skipped
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = created_at_column()
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None]


class EmailOutboxMessage(Base):
    """An email owed: queued in the transaction that decided to send it, sent by EmailSender."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # `<workflow id>/<action id>/<seq>` for chain emails: a retry finds the queued row.
    idempotency_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str]
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    # queued | sending (handed over, or about to be, and not yet recorded as sent) | sent |
    # failed
    status: Mapped[str] = mapped_column(String(10), default="queued", server_default="queued")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None]


class WebhookCall(Base):
    """A chain webhook POST under its key: once `succeeded`, a retry does not POST again."""

    __tablename__ = "webhook_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    # succeeded | failed
    status: Mapped[str] = mapped_column(String(10))
    status_code: Mapped[int | None]
    response_excerpt: Mapped[str | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str | None]
    at: Mapped[datetime] = created_at_column()


class ChainEffect(Base):
    """The first result of a chain effect that leaves no row of its own (set_property,
    assign_owner); a retry under the same key answers it instead of acting again."""

    __tablename__ = "chain_effects"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
