from datetime import datetime
from typing import Annotated

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Line


class ContactListCreate(WriteModel):
    name: Annotated[str, Line(200, min_length=1)] = Field(examples=["Webinar attendees"])


class ContactListRead(ReadModel):
    id: int
    name: str
    created_by_id: int | None
    created_at: datetime


class ContactListMemberRead(ReadModel):
    contact_id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    added_at: datetime
