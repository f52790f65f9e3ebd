from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Flag, Id, Instant, Line
from domain.activities import ActivityType


class CallDetails(WriteModel):
    status: Annotated[str, Line(30)] | None = Field(default=None, examples=["completed"])
    outcome: Annotated[str, Line(40)] | None = Field(
        default=None,
        description="`connected` moves a lead along the connect rule; other outcomes do not",
        examples=["connected", "no_answer", "left_voicemail", "busy", "wrong_number"],
    )
    via_platform: Flag = Field(default=False, description="Made with built-in calling")


class MeetingDetails(WriteModel):
    start: Instant | None = None
    end: Instant | None = None
    outcome: Literal["scheduled", "completed", "no_show", "canceled", "rescheduled"] = "scheduled"
    booked_by_contact: Flag = False


class EmailDetails(WriteModel):
    thread_id: Annotated[str, Line(200)] | None = None
    # Addresses as the mail system wrote them (maybe with a display name): one line each.
    from_: Annotated[str, Line(320)] | None = Field(default=None, alias="from")
    to: list[Annotated[str, Line(320)]] = Field(default_factory=list, max_length=100)
    primary_recipient: Annotated[str, Line(320)] | None = None


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

    @model_validator(mode="after")
    def _details_match_type(self) -> "ActivityIn":
        for name, types in (
            ("call", {ActivityType.CALL}),
            ("meeting", {ActivityType.MEETING}),
            ("email", EMAIL_TYPES),
        ):
            if getattr(self, name) is not None and self.type not in types:
                raise ValueError(
                    f"`{name}` details do not belong to an activity of type {self.type.value}"
                )
        if (
            self.lead_id is None
            and self.contact_id is None
            and self.company_id is None
            and self.deal_id is None
        ):
            raise ValueError(
                "an activity names at least one of lead_id, contact_id, company_id, deal_id"
            )
        return self

    def details(self) -> dict[str, object]:
        return {
            name: getattr(self, name).model_dump(mode="json", by_alias=True)
            for name in ("call", "meeting", "email")
            if getattr(self, name) is not None
        }

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
    delivered_lead_ids: list[int] | None = Field(
        description="Open leads the activity was delivered to"
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
