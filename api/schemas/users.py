from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import EmailAddress, Line, TimeZoneName
from domain.roles import Role


class UserCreate(WriteModel):
    email: EmailAddress = Field(examples=["ana@example.com"])
    name: Annotated[str, Line(200, min_length=1)] = Field(examples=["Ana Rep"])
    role: Role = Field(examples=["sales_user"])
    seat: Literal["current", "legacy"] | None = Field(
        default=None, description="Sales seat (PERM-3)"
    )
    time_zone: TimeZoneName = Field(default="UTC", description="An IANA time zone name")


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
