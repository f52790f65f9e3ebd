from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, updated_at_column


class PipelineAutomation(Base):
    """The templated rules of one lead pipeline (AUT-1); one row per lead pipeline, never deleted
    on its own. Stage columns reference stages so a used stage cannot silently disappear."""

    __tablename__ = "pipeline_automation"

    pipeline_id: Mapped[int] = mapped_column(
        ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True
    )
    follow_up_enabled: Mapped[bool] = mapped_column(default=False, server_default="false")
    follow_up_lead_type: Mapped[str | None] = mapped_column(String(50))
    follow_up_reason_ids: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), default=list, server_default="{}"
    )
    outreach_enabled: Mapped[bool] = mapped_column(default=False, server_default="false")
    outreach_from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id"))
    outreach_to_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id"))
    outreach_events: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    connect_enabled: Mapped[bool] = mapped_column(default=False, server_default="false")
    connect_from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id"))
    connect_to_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id"))
    connect_events: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    updated_at: Mapped[datetime] = updated_at_column()
