from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Flag, Id, Instant, Line, Text
from api.schemas.meetings import (
    Attendees,
    CalendarMeetingId,
    Location,
    MeetingUrl,
    Notes,
    Title,
    end_after_start,
)
from domain.activities import INTERNAL_EVENT_PREFIX, ActivityType
from domain.meetings import MeetingKind


class CallDetails(WriteModel):
    status: Annotated[str, Line(30)] | None = Field(default=None, examples=["completed"])
    outcome: Annotated[str, Line(40)] | None = Field(
        default=None,
        description="`connected` moves a lead along the connect rule; other outcomes do not",
        examples=["connected", "no_answer", "left_voicemail", "busy", "wrong_number"],
    )
    via_platform: Flag = Field(default=False, description="Made with built-in calling")


class MeetingDetails(WriteModel):
    """A calendar event: a meeting, or a busy block (out of office). With a `meeting_id`, a
    later post for the same user updates the meeting with the fields it gives."""

    meeting_id: CalendarMeetingId | None = Field(
        default=None,
        description="The calendar's id of the meeting; a later post with it (and the same "
        "`user_id`) updates the meeting rather than making another",
    )
    kind: MeetingKind = Field(
        default=MeetingKind.MEETING, description="`busy`: out of office and other blocks"
    )
    title: Title | None = None
    start: Instant | None = None
    end: Instant | None = None
    outcome: Literal["scheduled", "completed", "no_show", "canceled", "rescheduled"] = "scheduled"
    booked_by_contact: Flag = False
    location: Location | None = None
    meeting_url: MeetingUrl | None = None
    attendees: Attendees = Field(default_factory=list)
    notes: Notes | None = None

    _end_after_start = field_validator("end")(end_after_start)

    def stored(self) -> dict[str, object]:
        """The details as stored: the fields added after posts were first fingerprinted are
        kept only when given, so a retry of an older post fingerprints as it did."""
        dumped = self.model_dump(mode="json", by_alias=True)
        return {k: v for k, v in dumped.items() if k in _FIRST_FIELDS or k in self.model_fields_set}


_FIRST_FIELDS = frozenset({"start", "end", "outcome", "booked_by_contact"})


class EmailDetails(WriteModel):
    thread_id: Annotated[str, Line(200)] | None = None
    # Addresses as the mail system wrote them (maybe with a display name): one line each.
    from_: Annotated[str, Line(320)] | None = Field(default=None, alias="from")
    to: list[Annotated[str, Line(320)]] = Field(default_factory=list, max_length=100)
    primary_recipient: Annotated[str, Line(320)] | None = None
    subject: Annotated[str, Line(1000)] | None = Field(
        default=None, description="Read by deal insights (DEAL-7)"
    )
    body: Annotated[str, Text(50000)] | None = Field(
        default=None, description="The text of the email; read by deal insights (DEAL-7)"
    )

    def stored(self) -> dict[str, object]:
        """As stored: `subject` and `body` only when given, so a retry of a post made before
        they existed fingerprints as it did."""
        dumped = self.model_dump(mode="json", by_alias=True)
        return {
            k: v for k, v in dumped.items() if k not in _LATER_EMAIL or k in self.model_fields_set
        }


_LATER_EMAIL = frozenset({"subject", "body"})


class NoteDetails(WriteModel):
    body: Annotated[str, Text(50000)] = Field(
        description="The note's text; read by deal insights (DEAL-7)",
        examples=['Jo said: "We need onboarding done before the summer."'],
    )


EMAIL_TYPES = {ActivityType.EMAIL_SENT, ActivityType.EMAIL_REPLY, ActivityType.EMAIL_OPEN}


class ActivityIn(WriteModel):
    event_id: Annotated[str, Line(200, min_length=1)] = Field(
        description="Your unique id; a repeat is a no-op"
    )
    type: ActivityType
    occurred_at: Instant
    user_id: Id | None = None
    contact_id: Id | None = None
    lead_id: Id | None = None
    deal_id: Id | None = None
    company_id: Id | None = None
    call: CallDetails | None = None
    meeting: MeetingDetails | None = None
    email: EmailDetails | None = None
    note: NoteDetails | None = None

    @field_validator("event_id")
    @classmethod
    def _not_internal(cls, value: str) -> str:
        if value.startswith(INTERNAL_EVENT_PREFIX):
            raise PydanticCustomError(
                "reserved_prefix",
                "event ids starting with {prefix} are Leadpipe's own",
                {"prefix": INTERNAL_EVENT_PREFIX},
            )
        return value

    @model_validator(mode="after")
    def _details_match_type(self) -> "ActivityIn":
        for name, types in (
            ("call", {ActivityType.CALL}),
            ("meeting", {ActivityType.MEETING}),
            ("email", EMAIL_TYPES),
            ("note", {ActivityType.NOTE}),
        ):
            if getattr(self, name) is not None and self.type not in types:
                raise ValueError(
                    f"`{name}` details do not belong to an activity of type {self.type.value}"
                )
        if self.meeting is not None and self.meeting.kind == MeetingKind.BUSY:
            if self.user_id is None:
                raise ValueError("a busy block names the user_id whose calendar it is in")
        elif (
            self.lead_id is None
            and self.contact_id is None
            and self.company_id is None
            and self.deal_id is None
            # A calendar meeting with colleagues only is still on its user's schedule.
            and not (self.type == ActivityType.MEETING and self.user_id is not None)
        ):
            raise ValueError(
                "an activity names at least one of lead_id, contact_id, company_id, deal_id "
                "(a meeting may name its user_id alone)"
            )
        return self

    def details(self) -> dict[str, object]:
        stored: dict[str, object] = {}
        if self.call is not None:
            stored["call"] = self.call.model_dump(mode="json", by_alias=True)
        if self.meeting is not None:
            stored["meeting"] = self.meeting.stored()
        if self.email is not None:
            stored["email"] = self.email.stored()
        if self.note is not None:
            stored["note"] = self.note.model_dump(mode="json")
        return stored

    def meeting_fields_given(self) -> frozenset[str] | None:
        """The meeting fields the poster set: a calendar update changes only these."""
        if self.meeting is None:
            return None
        return frozenset(self.meeting.model_fields_set)

    model_config = WriteModel.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "event_id": "dialer-8812",
                    "type": "call",
                    "occurred_at": "2026-11-23T10:15:00Z",
                    "user_id": 3,
                    "contact_id": 12,
                    "call": {"status": "completed", "outcome": "connected"},
                }
            ]
        }
    }


class ActivityRead(ReadModel):
    id: int
    event_id: str
    type: ActivityType
    occurred_at: datetime
    user_id: int | None
    contact_id: int | None
    lead_id: int | None
    deal_id: int | None
    company_id: int | None
    details: dict[str, object]
    meeting_id: int | None = Field(
        default=None, description="The meeting this activity made, updated or is about"
    )
    call_id: int | None = Field(default=None, description="The call this activity made or is about")
    delivered_lead_ids: list[int] | None = Field(
        description="Open leads the activity was recorded for; their workflows hear of it "
        "when it can move them or a stage chain waits for its type (not a note)"
    )
    created_at: datetime


class ActivityBatchIn(WriteModel):
    # Items are validated one by one, so one bad item does not refuse the good ones.
    activities: list[dict[str, Any]] = Field(
        min_length=1, max_length=500, description="Each item has the shape of `POST /activities`"
    )


class BatchItemResult(WriteModel):
    index: int
    status: int = Field(description="202 stored (or already stored), 4xx refused")
    activity: ActivityRead | None = None
    detail: str | None = None
    errors: list[dict[str, str]] = Field(default_factory=list)


class ActivityBatchResult(WriteModel):
    results: list[BatchItemResult]
