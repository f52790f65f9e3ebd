from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from api.schemas.common import ReadModel, WriteModel
from api.schemas.deals import Amount, DealName
from api.schemas.fields import CalendarDate, Id, Line, Name, NotNull
from domain.leads import LeadLabel, LeadSource
from domain.lifecycle import LifecycleStage

LeadTypeKey = Annotated[str, Line(50)]
LeadName = Annotated[str, Line(200, min_length=1)]


class LeadCreate(WriteModel):
    name: Name | None = Field(
        default=None, description="Defaults to the contact's or company's name"
    )
    contact_id: Id | None = None
    company_id: Id | None = None
    pipeline_id: Id | None = Field(default=None, description="The default lead pipeline if absent")
    stage_id: Id | None = Field(default=None, description="The pipeline's first stage if absent")
    owner_id: Id | None = None
    lead_type: LeadTypeKey | None = Field(default=None, examples=["new_business"])
    label: LeadLabel | None = None

    @model_validator(mode="after")
    def _needs_contact_or_company(self) -> "LeadCreate":
        if self.contact_id is None and self.company_id is None:
            raise ValueError("a lead needs a contact_id or a company_id")
        return self

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"contact_id": 12, "owner_id": 3, "label": "hot"}]}
    )


class LeadUpdate(WriteModel):
    """Only the fields sent change; `null` clears a nullable one."""

    name: Annotated[LeadName | None, NotNull()] = None
    label: LeadLabel | None = None
    lead_type: LeadTypeKey | None = Field(default=None, examples=["new_business"])
    contact_id: Id | None = Field(
        default=None,
        description="A contact newly associated takes the lifecycle stage the lead settings "
        "set (`set_lifecycle_on_associate`)",
    )
    company_id: Id | None = Field(
        default=None, description="As `contact_id`; a lead keeps a contact or a company"
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"label": "warm", "company_id": 7}, {"name": "Acme"}]}
    )


class DealDraftIn(WriteModel):
    name: DealName
    amount: Amount | None = None
    close_date: CalendarDate | None = None
    pipeline_id: Id | None = None
    stage_id: Id | None = None


class StageMoveIn(WriteModel):
    stage_id: Id
    disqualification_reason_id: Id | None = None
    deal: DealDraftIn | None = Field(
        default=None,
        description="Required when moving into a qualified stage and the settings say so",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"stage_id": 2},
                {"stage_id": 4, "deal": {"name": "Acme annual plan", "amount": "12000.00"}},
                {"stage_id": 5, "disqualification_reason_id": 1},
            ]
        }
    )


class OwnerChangeIn(WriteModel):
    owner_id: Id | None


class LeadRead(ReadModel):
    id: int
    name: str
    contact_id: int | None
    company_id: int | None
    pipeline_id: int
    stage_id: int
    owner_id: int | None
    lead_type: str | None
    label: LeadLabel | None
    source: LeadSource
    parent_lead_id: int | None
    auto_progression: bool = Field(
        description="False once a person moved the lead to an earlier stage (automation stops)"
    )
    disqualification_reason_id: int | None
    deal_id: int | None
    created_at: datetime
    updated_at: datetime


class CausedByLifecycleChange(ReadModel):
    """The contact entered a trigger lifecycle stage (`create_lead_on_lifecycle`)."""

    kind: Literal["lifecycle_change"]
    contact_id: int
    lifecycle_change_id: int = Field(
        description="The change in `GET /contacts/{contact_id}/lifecycle-changes`"
    )
    from_lifecycle_stage: LifecycleStage | None
    to_lifecycle_stage: LifecycleStage
    change_source: str = Field(examples=["manual", "integration"])
    at: datetime


class CausedByDisqualification(ReadModel):
    """Another lead was disqualified with a chosen reason (`follow_up_on_disqualify`)."""

    kind: Literal["disqualification"]
    lead_id: int = Field(description="The disqualified lead: this lead's `parent_lead_id`")
    stage_change_id: int
    from_stage_id: int | None
    to_stage_id: int
    disqualification_reason_id: int | None
    at: datetime


class StageChangeRead(ReadModel):
    at: datetime
    from_stage_id: int | None
    to_stage_id: int
    cause: str = Field(examples=["manual", "created", "automation:advance_on_outreach"])
    actor_id: int | None
    event_id: str | None = Field(description="The activity whose event moved the lead, if any")
    disqualification_reason_id: int | None
    caused_by: (
        Annotated[CausedByLifecycleChange | CausedByDisqualification, Field(discriminator="kind")]
        | None
    ) = Field(
        default=None,
        description="On the first row of a lead automation created (`cause` "
        "`automation:create_lead_on_lifecycle` or `automation:follow_up_on_disqualify`): the "
        "event that made the rule fire, by `kind`. Null on every other row",
    )
