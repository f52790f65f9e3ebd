from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, created_at_column


class Pipeline(Base):
    __tablename__ = "pipelines"
    __table_args__ = (
        # Exactly one default pipeline per object (STG-1).
        Index(
            "uq_pipelines_default_per_object",
            "object",
            unique=True,
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(default=False, server_default="false")
    created_at: Mapped[datetime] = created_at_column()

    # Only the stages in use; a deleted stage stays (removed_at set) for the history naming it.
    stages: Mapped[list["Stage"]] = relationship(
        primaryjoin="and_(Pipeline.id == Stage.pipeline_id, Stage.removed_at.is_(None))",
        order_by="Stage.position",
        lazy="selectin",
        viewonly=True,
    )


class Stage(Base):
    __tablename__ = "stages"
    __table_args__ = (
        # Labels are unique among a pipeline's stages in use (STG-4).
        Index(
            "uq_stages_pipeline_label",
            "pipeline_id",
            "label",
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
