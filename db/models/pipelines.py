from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
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

    stages: Mapped[list["Stage"]] = relationship(
        back_populates="pipeline", order_by="Stage.position", lazy="selectin"
    )


class Stage(Base):
    __tablename__ = "stages"
    __table_args__ = (UniqueConstraint("pipeline_id", "label", name="uq_stages_pipeline_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")
