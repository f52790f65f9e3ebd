from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column, updated_at_column


class Lead(Base):
    __tablename__ = "leads"
    # A user's leads, and the leads board's count and newest leads per stage (WS-8).
    __table_args__ = (Index("ix_leads_owner_stage", "owner_id", "stage_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lead_type: Mapped[str | None] = mapped_column(String(50))
    label: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(20), default="manual", server_default="manual")
    parent_lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    auto_progression: Mapped[bool] = mapped_column(default=True, server_default="true")
    disqualification_reason_id: Mapped[int | None] = mapped_column(
        ForeignKey("disqualification_reasons.id", name="fk_leads_disqualification_reason_id")
    )
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", use_alter=True))
    # Events older than the last manual move never move the lead (AUT rules).
    last_manual_move_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A retry key on create: a retry returns this lead, never a second one. A client's
    # Idempotency-Key is stored per caller as `user/<id>/<key>`; automation's own keys
    # (`follow-up/<transition>`) have no caller.
    idempotency_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    # SHA-256 of the request first made with the key: a reuse with another body is refused.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class LeadStageChange(Base):
    """One row per stage transition, oldest first: the lead's history."""

    __tablename__ = "lead_stage_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = created_at_column()
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id"))
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"))
    cause: Mapped[str] = mapped_column(String(80))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event_id: Mapped[str | None] = mapped_column(String(200))
    disqualification_reason_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "disqualification_reasons.id",
            name="fk_lead_stage_history_disqualification_reason_id",
        )
    )
    # Set by the workflow's transition activity so a retried activity writes no second row.
    transition_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # On the `created` row of a lead automation made: the event that caused it (AUT-13), a
    # `domain.leads.CreationCause` as JSON.
    caused_by: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
