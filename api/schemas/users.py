from datetime import datetime
from typing import Literal

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from domain.roles import Role


class UserCreate(WriteModel):
    email: str = Field(
        max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", examples=["ana@example.com"]
    )
    name: str = Field(min_length=1, max_length=200, examples=["Ana Rep"])
    role: Role = Field(examples=["sales_user"])
    seat: Literal["current", "legacy"] | None = Field(
        default=None, description="Sales seat (PERM-3)"
    )
    time_zone: str = Field(default="UTC", examples=["Europe/Helsinki"])


class UserRead(ReadModel):
    id: int
    email: str
    name: str
    role: Role
    seat: str | None
    time_zone: str
    created_at: datetime


class UserCreated(UserRead):
    token: str = Field(description="The bearer token. Shown this once; only its hash is stored.")
