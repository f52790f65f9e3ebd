from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # Sales seat: current | legacy | none (PERM-3 refuses legacy seats in the workspace).
    seat: Mapped[str | None] = mapped_column(String(10))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # SHA-256 of the bearer token: tokens are random and long, so a slow hash adds nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
