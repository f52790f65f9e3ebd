"""Lead configuration: account-wide lead settings, disqualification reasons and lead types."""

from datetime import datetime

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column, updated_at_column


class LeadSettingsRow(Base):
    """The account's lead settings: one row (the service runs one account)."""

    __tablename__ = "lead_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    create_lead_on_lifecycle_enabled: Mapped[bool] = mapped_column(
        default=False, server_default="false"
    )
    create_lead_on_lifecycle_stages: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), default=list, server_default="{}"
    )
    set_lifecycle_on_associate_enabled: Mapped[bool] = mapped_column(
        default=False, server_default="false"
    )
    set_lifecycle_on_associate_stage: Mapped[str | None] = mapped_column(String(40))
    require_deal_on_qualify: Mapped[bool] = mapped_column(default=False, server_default="false")
    require_disqualification_reason: Mapped[bool] = mapped_column(
        default=False, server_default="false"
    )
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = updated_at_column()


class DisqualificationReason(Base):
    """A reason offered when disqualifying (DIS-5); a removed one stays for the leads naming it."""

    __tablename__ = "disqualification_reasons"
    __table_args__ = (
        Index(
            "uq_disqualification_reasons_active_label",
            "label",
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int]
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def removed(self) -> bool:
        return self.removed_at is not None


class LeadType(Base):
    """A lead type (AUT-11). Leads and rules name it by `key`, which never changes or returns."""

    __tablename__ = "lead_types"
    __table_args__ = (
        UniqueConstraint("key", name="uq_lead_types_key"),
        Index(
            "uq_lead_types_active_label",
            "label",
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(100))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def removed(self) -> bool:
        return self.removed_at is not None
