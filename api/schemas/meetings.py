"""Meetings and calls: the fields calendar posts and people send, and the records read back."""

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import EmailAddress, Flag, Id, Instant, Line, Text
from domain.meetings import MeetingKind, MeetingOutcome

# http(s) and no whitespace or control characters. The JSON Schema says as much (its `\s`);
# the check below refuses at least what that pattern refuses (U+FEFF is whitespace there).
_URL_PATTERN = "^https?://[^\\s\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]+$"
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]+")


def _web_url(value: str) -> str:
    if not _URL.fullmatch(value):
        raise PydanticCustomError("url", "not an http(s) URL (https://meet.example.com/abc)")
    return value


MeetingUrl = Annotated[str, Line(2000, pattern=_URL_PATTERN), AfterValidator(_web_url)]
"""A virtual-meeting link as the calendar gives it: http(s), one line, kept as written."""

CalendarMeetingId = Annotated[str, Line(200, min_length=1)]
Title = Annotated[str, Line(300)]
Location = Annotated[str, Line(500)]
Notes = Annotated[str, Text(10000)]


class Attendee(WriteModel):
    email: EmailAddress = Field(examples=["jo@acme.io"])
    name: Annotated[str, Line(200)] | None = Field(default=None, examples=["Jo Lee"])


Attendees = Annotated[list[Attendee], Field(max_length=200)]


def end_after_start(end: datetime | None, info: ValidationInfo) -> datetime | None:
    """A field validator for `end`: not before `start` (when both are given)."""
    start = info.data.get("start")
    if start is not None and end is not None and end < start:
        raise PydanticCustomError("after_start", "the meeting may not end before it starts")
    return end


class MeetingCreate(WriteModel):
    title: Annotated[str, Line(300, min_length=1)] = Field(examples=["Trial kick-off"])
    start: Instant
    end: Instant
    kind: MeetingKind = MeetingKind.MEETING
    outcome: MeetingOutcome = MeetingOutcome.SCHEDULED
    location: Location | None = None
    meeting_url: MeetingUrl | None = Field(default=None, examples=["https://meet.example.com/x"])
    attendees: Attendees = Field(default_factory=list)
    notes: Notes | None = None
    booked_by_contact: Flag = False
    owner_id: Id | None = Field(default=None, description="The caller; admins may name another")
    contact_ids: list[Id] = Field(default_factory=list, max_length=100)
    company_id: Id | None = None
    deal_id: Id | None = None
    lead_id: Id | None = None

    _end_after_start = field_validator("end")(end_after_start)


class AttendeeRead(ReadModel):
    email: str
    name: str | None = None


class MeetingOutcomeIn(WriteModel):
    outcome: MeetingOutcome = Field(
        description="Anything but `scheduled` ends the log-outcome guided action (GA-15)"
    )


class MeetingRead(ReadModel):
    id: int
    kind: MeetingKind
    owner_id: int | None
    title: str
    start: datetime
    end: datetime
    outcome: MeetingOutcome | None = Field(description="None for a busy block")
    location: str | None
    meeting_url: str | None = Field(description="The virtual-meeting link (WS-11)")
    attendees: list[AttendeeRead]
    notes: str | None
    booked_by_contact: bool
    contact_ids: list[int]
    company_id: int | None
    deal_id: int | None
    lead_id: int | None
    calendar_meeting_id: str | None = Field(
        description="The calendar's `meeting_id`: later posts with it update this meeting"
    )
    created_at: datetime
    updated_at: datetime


class CallOutcomeIn(WriteModel):
    outcome: Annotated[str, Line(40, min_length=1)] = Field(
        description="`connected` moves the lead along the connect rule (AUT-4)",
        examples=["connected", "no_answer", "left_voicemail", "busy", "wrong_number"],
    )
    status: Annotated[str, Line(30)] | None = Field(
        default=None, description="Changes the call's status too", examples=["completed"]
    )


class CallRead(ReadModel):
    id: int
    owner_id: int | None
    started_at: datetime
    status: str | None
    outcome: str | None
    via_platform: bool
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    lead_id: int | None
    created_at: datetime
    updated_at: datetime
