"""Lead settings, disqualification reasons, lead types and lead labels."""

from pydantic import ConfigDict, Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Flag, Id, Label, Position
from domain.lifecycle import LifecycleStage


class CreateLeadOnLifecycleIO(WriteModel):
    enabled: Flag = False
    stages: list[LifecycleStage] = Field(
        default_factory=list,
        max_length=20,
        description="Lifecycle stages that create a lead when a contact enters one; "
        "at least one when enabled",
    )


class SetLifecycleOnAssociateIO(WriteModel):
    enabled: Flag = False
    stage: LifecycleStage | None = Field(
        default=None, description="The stage associated contacts and companies are set to"
    )


class LeadSettingsIO(WriteModel):
    """The whole lead settings document: a PUT replaces it (all or nothing)."""

    create_lead_on_lifecycle: CreateLeadOnLifecycleIO
    set_lifecycle_on_associate: SetLifecycleOnAssociateIO
    require_deal_on_qualify: Flag = Field(
        description="A move to a qualified stage must create a deal (send `deal` with the move)"
    )
    require_disqualification_reason: Flag = Field(
        description="A move to a disqualified stage must name `disqualification_reason_id`"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "create_lead_on_lifecycle": {
                        "enabled": True,
                        "stages": ["marketingqualifiedlead"],
                    },
                    "set_lifecycle_on_associate": {"enabled": True, "stage": "salesqualifiedlead"},
                    "require_deal_on_qualify": True,
                    "require_disqualification_reason": False,
                }
            ]
        }
    )


class ReasonCreate(WriteModel):
    label: Label
    position: Position | None = Field(
        default=None, description="0 is first; the end of the list if absent"
    )


class ReasonEditIn(WriteModel):
    id: Id | None = Field(
        default=None,
        description="A reason that may be chosen: kept, and renamed when `label` differs. "
        "Leave it out to add a reason",
    )
    label: Label


class ReasonsSave(WriteModel):
    """The whole list of reasons, in the new order; saved all or nothing (DIS-9)."""

    reasons: list[ReasonEditIn] = Field(
        max_length=1000,
        description="Every reason, in the order offered. Reasons left out are removed as a "
        "single remove removes them: leads keep them, follow-up rules drop them",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reasons": [
                        {"id": 1, "label": "No budget this year"},
                        {"label": "Went quiet"},
                        {"id": 3, "label": "No need"},
                    ]
                }
            ]
        }
    )


class LabelChange(WriteModel):
    label: Label


class OrderIn(WriteModel):
    ids: list[Id] = Field(max_length=1000, description="Every id, once, in the new order")


class ReasonRead(ReadModel):
    id: int
    label: str
    position: int
    removed: bool = Field(description="Removed reasons are no longer offered; leads keep them")


class LeadTypeCreate(WriteModel):
    label: Label


class LeadTypeRead(ReadModel):
    id: int
    key: str = Field(description="What `lead_type` on leads and rules names; never changes")
    label: str
    removed: bool


class LeadLabelRead(ReadModel):
    key: str
    label: str
