from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column, updated_at_column


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # Sales seat: current | legacy | none (PERM-3 refuses legacy seats in the workspace).
    seat: Mapped[str | None] = mapped_column(String(10))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # A deactivated user's token no longer signs in; their records keep pointing at them.
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    # PERM-7: which deals and activities the user sees (all | owned).
    deal_visibility: Mapped[str] = mapped_column(String(10), default="all", server_default="all")
    activity_visibility: Mapped[str] = mapped_column(
        String(10), default="all", server_default="all"
    )
    # WS-7: whether completing a task offers to create a follow-up task.
    prompt_follow_up_on_complete: Mapped[bool] = mapped_column(default=True, server_default="true")
    # SHA-256 of the bearer token: tokens are random and long, so a slow hash adds nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    @property
    def permissions(self) -> dict[str, str]:
        return {"deals": self.deal_visibility, "activities": self.activity_visibility}

    @property
    def task_settings(self) -> dict[str, bool]:
        return {"prompt_follow_up_on_complete": self.prompt_follow_up_on_complete}
