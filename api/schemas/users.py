from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import EmailAddress, Flag, Line, NotNull, TimeZoneName
from domain.roles import Role, Visibility

UserName = Annotated[str, Line(200, min_length=1)]
SeatName = Literal["current", "legacy"]


class UserCreate(WriteModel):
    email: EmailAddress = Field(examples=["ana@example.com"])
    name: UserName = Field(examples=["Ana Rep"])
    role: Role = Field(examples=["sales_user"])
    seat: SeatName | None = Field(default=None, description="Sales seat (PERM-3)")
    time_zone: TimeZoneName = Field(default="UTC", description="An IANA time zone name")


class Permissions(ReadModel):
    deals: Visibility = Field(description="`owned`: only the deals the user owns (PERM-7)")
    activities: Visibility = Field(description="`owned`: only the activities the user logged")


class TaskSettings(ReadModel):
    prompt_follow_up_on_complete: bool = Field(
        description="Completing a task offers to create a follow-up task (WS-7)"
    )


class UserSummary(ReadModel):
    """What every signed-in caller sees of a user: enough to name an owner id."""

    id: int
    name: str
    role: Role
    active: bool


class UserRead(UserSummary):
    """A user as admins see it, and as each user sees themselves."""

    email: str
    seat: str | None
    time_zone: str
    permissions: Permissions
    task_settings: TaskSettings
    created_at: datetime
    updated_at: datetime


class UserCreated(UserRead):
    token: str = Field(description="The bearer token. Shown this once; only its hash is stored.")


class PermissionsUpdate(WriteModel):
    deals: Annotated[Visibility | None, NotNull()] = None
    activities: Annotated[Visibility | None, NotNull()] = None


class UserUpdate(WriteModel):
    name: Annotated[UserName | None, NotNull()] = None
    role: Annotated[Role | None, NotNull()] = Field(
        default=None, description="Only a super_admin grants super_admin"
    )
    seat: SeatName | None = Field(default=None, description="`null` takes the seat away")
    time_zone: Annotated[TimeZoneName | None, NotNull()] = None
    active: Annotated[Flag | None, NotNull()] = Field(
        default=None, description="A deactivated user's token stops working (401)"
    )
    permissions: Annotated[PermissionsUpdate | None, NotNull()] = None


class TaskSettingsUpdate(WriteModel):
    prompt_follow_up_on_complete: Annotated[Flag | None, NotNull()] = None


class OwnSettingsUpdate(WriteModel):
    name: Annotated[UserName | None, NotNull()] = None
    time_zone: Annotated[TimeZoneName | None, NotNull()] = None
    task_settings: Annotated[TaskSettingsUpdate | None, NotNull()] = None
