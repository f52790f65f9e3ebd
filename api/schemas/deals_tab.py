"""The deals tab (DEAL-1 to DEAL-5) and deal insights (DEAL-6 to DEAL-11)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, Strict

from api.schemas.common import ReadModel, WriteModel
from api.schemas.deals import DealRead
from api.schemas.fields import Flag, Line, Text
from domain.deal_properties import (
    CATALOGUE,
    MAX_FILTERS,
    MAX_IN_VALUES,
    DealProperty,
    FilterOp,
    SortDirection,
)
from domain.deal_risks import EvidenceKind, RiskKind
from domain.deals import DealView
from domain.engagements import EngagementType
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

_PROPERTIES = ", ".join(f"`{p.value}` ({spec.type.value})" for p, spec in CATALOGUE.items())


class DealRowRead(DealRead):
    stage_label: str


class DealListRead(ReadModel):
    view: DealView
    columns: list[DealProperty] = Field(description="The caller's saved columns, in order (DEAL-4)")
    items: list[DealRowRead]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; absent on the last page."
    )


class FilterIn(WriteModel):
    property: DealProperty = Field(description=f"One of the catalogue: {_PROPERTIES}")
    op: FilterOp = Field(
        description="id: eq, neq, in, is_set, not_set; text: those and contains; number: "
        "those of id and lt, lte, gt, gte; date and instant: eq, neq, lt, lte, gt, gte, "
        "is_set, not_set"
    )
    value: Any = Field(
        default=None,
        description="Of the property's type (an id, a string, a number, `YYYY-MM-DD`, an "
        f"RFC 3339 time); for `in` a list of 1 to {MAX_IN_VALUES}; none for `is_set` and "
        "`not_set`",
        examples=[12000],
    )


class SortIn(WriteModel):
    property: DealProperty = DealProperty.ID
    direction: SortDirection = SortDirection.ASC


class DealSearchIn(WriteModel):
    view: DealView = DealView.ALL_OPEN
    filters: list[FilterIn] = Field(
        default_factory=list,
        max_length=MAX_FILTERS,
        description="All must hold. Without an `owner_id` filter (`eq` or `in`) the caller's "
        "own deals are searched",
    )
    sort: SortIn = Field(default_factory=SortIn, description="Unset values sort last")
    limit: Annotated[int, Strict(), Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
    cursor: Annotated[str, Line(500)] | None = None

    model_config = WriteModel.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "view": "all_open",
                    "filters": [
                        {"property": "amount", "op": "gte", "value": 10000},
                        {"property": "name", "op": "contains", "value": "acme"},
                    ],
                    "sort": {"property": "close_date", "direction": "asc"},
                }
            ]
        }
    }


class DealColumnsIO(WriteModel):
    columns: list[DealProperty] = Field(
        min_length=1,
        max_length=len(CATALOGUE),
        description="Property names in the order shown, each once",
        examples=[["name", "stage_id", "amount", "close_date"]],
    )


# -- Overview ----------------------------------------------------------------------------------


class StageRef(ReadModel):
    id: int
    label: str
    kind: str
    position: int


class PipelineRef(ReadModel):
    id: int
    label: str
    stages: list[StageRef] = Field(description="The stages a stage update may choose")


class UserRef(ReadModel):
    id: int
    name: str


class ContactRef(ReadModel):
    id: int
    name: str
    email: str | None


class ActivityItem(ReadModel):
    activity_id: int
    type: EngagementType
    occurred_at: datetime
    summary: str


class NextActivity(ReadModel):
    kind: Literal["meeting", "task"]
    id: int
    title: str
    at: datetime | None = Field(description="The meeting's start, the task's due time")


class ActionLink(ReadModel):
    """How to act on the deal from the overview: the endpoint that does it and a body to
    start from (DEAL-5)."""

    action: Literal["update_stage", "edit_close_date", "send_email", "log_call", "schedule_meeting"]
    method: Literal["PATCH", "POST"]
    href: str
    body: dict[str, Any]


class DealOverviewRead(ReadModel):
    deal: DealRowRead
    pipeline: PipelineRef
    stage: StageRef
    owner: UserRef | None
    contacts: list[ContactRef]
    last_activity: ActivityItem | None = Field(description="The newest the caller may see")
    next_activity: NextActivity | None = Field(
        description="The next future meeting or open task the caller may see"
    )
    days_in_stage: int
    stage_norm_days: float = Field(description="How long deals usually stay in this stage")
    stage_norm_basis: str
    stalled: bool
    actions: list[ActionLink]


# -- Insights ----------------------------------------------------------------------------------


class EvidenceRead(ReadModel):
    kind: EvidenceKind
    id: int


class RiskRead(ReadModel):
    kind: RiskKind
    text: str
    activity_ids: list[int] = Field(description="The activities the risk rests on")
    evidence: list[EvidenceRead] = Field(
        description="Everything it rests on: activities, stage and close date changes, scores"
    )


class GoalRead(ReadModel):
    text: str = Field(description="In the buyer's own words")
    activity_ids: list[int]


class ScoreFactorRead(ReadModel):
    name: str
    points: int
    most: int
    reason: str
    activity_ids: list[int]


class ScoreRead(ReadModel):
    value: int = Field(ge=0, le=100)
    factors: list[ScoreFactorRead]


class BasedOn(ReadModel):
    activities: int = Field(description="Meetings, notes, emails and calls read (at most 100)")


class SummaryRead(ReadModel):
    text: str
    generated_by: str


class DealInsightsRead(ReadModel):
    deal_id: int
    recent_activity: list[ActivityItem] = Field(description="The 5 most recent")
    risks: list[RiskRead]
    buyer_goals: list[GoalRead]
    score: ScoreRead
    text: str = Field(description="The whole, as one copyable plain text (DEAL-10)")
    based_on: BasedOn
    summary: SummaryRead | None = Field(
        default=None, description="From an optional text provider; absent unless one is set up"
    )


class FeedbackIn(WriteModel):
    helpful: Flag = Field(description="Helpful (true) or not helpful (false)")
    comment: Annotated[str, Text(2000)] | None = None


class FeedbackRead(ReadModel):
    id: int
    deal_id: int
    helpful: bool
    comment: str | None
    created_at: datetime


class AiSettingsIO(WriteModel):
    customer_analysis: Flag = Field(
        default=True,
        description="Off: deal insights answer 409 `insights-disabled` (DEAL-9)",
    )
