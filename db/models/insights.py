"""Deal insights: the account's switch, kept deal scores and the feedback people give."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column, updated_at_column


class AiSettingsRow(Base):
    """The account's AI-assistant settings (DEAL-9): one row; none means the defaults."""

    __tablename__ = "ai_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    customer_analysis: Mapped[bool] = mapped_column(default=True, server_default="true")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = updated_at_column()


class DealScoreRow(Base):
    """A deal's score on one day under one visibility scope (domain/deal_score.py)."""

    __tablename__ = "deal_scores"
    __table_args__ = (
        Index("uq_deal_scores_deal_scope_day", "deal_id", "scope", "scored_on", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    # `all`, or `user:<id>` for a viewer who sees only the activities they logged.
    scope: Mapped[str] = mapped_column(String(30))
    scored_on: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(SmallInteger)
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = updated_at_column()


class InsightFeedback(Base):
    """Helpful or not, with an optional comment (DEAL-11)."""

    __tablename__ = "deal_insight_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    helpful: Mapped[bool]
    comment: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()
