from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ARRAY, Date, DateTime, Float, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column, updated_at_column


class Deal(Base):
    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    close_date: Mapped[date | None] = mapped_column(Date)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    next_steps: Mapped[str | None]
    # When next_steps last changed (GA-25 ends on it); None: never since it was created.
    next_steps_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the deal entered its current stage: the stalled view compares it with the norm.
    stage_entered_at: Mapped[datetime] = created_at_column()
    # Chains create deals under `<workflow id>/<action id>/<seq>`: a retry finds its deal.
    idempotency_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class DealStageChange(Base):
    """Every change of a deal's stage, with the time the deal had spent in the one it left:
    the history stage norms are computed from."""

    __tablename__ = "deal_stage_changes"
    # Norms read the exits of a stage over the last year.
    __table_args__ = (
        Index(
            "ix_deal_stage_changes_from_stage_at",
            "from_stage_id",
            "at",
            postgresql_include=["seconds_in_from_stage"],
        ),
        Index("ix_deal_stage_changes_deal_at", "deal_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    at: Mapped[datetime] = created_at_column()
    # History about a deleted pipeline's stages goes with them.
    from_stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    seconds_in_from_stage: Mapped[float] = mapped_column(Float)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DealCloseDateChange(Base):
    """Every change of a deal's close date: insights see it slip."""

    __tablename__ = "deal_close_date_changes"
    __table_args__ = (Index("ix_deal_close_date_changes_deal_at", "deal_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    at: Mapped[datetime] = created_at_column()
    from_date: Mapped[date | None] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DealStageNorm(Base):
    """A stage's norm as last computed from its exits (domain/deals.py)."""

    __tablename__ = "deal_stage_norms"

    stage_id: Mapped[int] = mapped_column(
        ForeignKey("stages.id", ondelete="CASCADE"), primary_key=True
    )
    samples: Mapped[int] = mapped_column(Integer)
    median_seconds: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DealColumns(Base):
    """The deals table columns a user chose, in order (DEAL-4)."""

    __tablename__ = "user_deal_columns"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    columns: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    updated_at: Mapped[datetime] = updated_at_column()
