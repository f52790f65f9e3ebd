from datetime import datetime
from typing import Annotated

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Id, Line


class SequenceCreate(WriteModel):
    name: Annotated[str, Line(200, min_length=1)] = Field(examples=["Trial follow-up"])


class SequenceRead(ReadModel):
    id: int
    name: str
    created_by_id: int | None
    created_at: datetime


class EnrollmentCreate(WriteModel):
    contact_id: Id
    user_id: Id | None = Field(default=None, description="Who sends the sequence; the caller")


class EnrollmentRead(ReadModel):
    sequence_id: int
    contact_id: int
    user_id: int | None
    enrolled_at: datetime
