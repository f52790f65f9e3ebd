from typing import Annotated

from pydantic import ConfigDict, Field

from api.schemas.common import WriteModel
from api.schemas.fields import Flag, Id, Line
from api.schemas.lead_config import CreateLeadOnLifecycleIO
from domain.automation import ProgressionEvent


class FollowUpIO(WriteModel):
    enabled: Flag = False
    lead_type: Annotated[str, Line(50)] | None = Field(default=None, description="A lead type key")
    reason_ids: list[Id] = Field(
        default_factory=list,
        max_length=1000,
        description="Disqualification reasons that create the follow-up",
    )


class ProgressionIO(WriteModel):
    enabled: Flag
    from_stage_id: Id | None = None
    to_stage_id: Id | None = None
    events: list[ProgressionEvent] = Field(min_length=1, max_length=20)


class AutomationIO(WriteModel):
    follow_up_on_disqualify: FollowUpIO
    advance_on_outreach: ProgressionIO = Field(
        description="Events: email_sent, linkedin_message, call, meeting_scheduled"
    )
    advance_on_connect: ProgressionIO = Field(
        description="Events: email_reply, meeting_booked_by_contact, call_connected"
    )
    create_lead_on_lifecycle: CreateLeadOnLifecycleIO | None = Field(
        default=None,
        description="Read-only: the lead settings' rule, shown on the default pipeline only. "
        "A PUT may send it back unchanged; change it with PUT /v1/settings/leads",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "follow_up_on_disqualify": {
                        "enabled": True,
                        "lead_type": "re_engagement",
                        "reason_ids": [4],
                    },
                    "advance_on_outreach": {
                        "enabled": True,
                        "from_stage_id": 1,
                        "to_stage_id": 2,
                        "events": ["email_sent", "call"],
                    },
                    "advance_on_connect": {
                        "enabled": False,
                        "from_stage_id": 2,
                        "to_stage_id": 3,
                        "events": ["email_reply"],
                    },
                }
            ]
        }
    )
