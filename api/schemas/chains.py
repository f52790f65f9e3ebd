from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Id, JsonObject, Line, Position, Text
from domain.chains import MAX_ACTIONS, Action, Comment, PlannedStep

ACTION_EXAMPLE = {
    "type": "create_task",
    "config": {"title": "Call {{contact.first_name}}", "due_in": "P1D", "priority": "high"},
}


class ChainWrite(WriteModel):
    actions: list[JsonObject] = Field(
        max_length=MAX_ACTIONS,
        description=(
            "The whole action tree; actions without an `id` get one, actions with one keep it "
            "(and their comments). Each is `{type, config}`; see the Action schema."
        ),
        examples=[
            [
                ACTION_EXAMPLE,
                {"type": "delay", "config": {"duration": "P3D"}},
                {
                    "type": "branch",
                    "config": {
                        "if": {"property": "lead.label", "op": "eq", "value": "hot"},
                        "then": [
                            {
                                "type": "send_email",
                                "config": {"subject": "Hi", "body": "Hi {{contact.first_name}}"},
                            }
                        ],
                    },
                },
            ]
        ],
    )


class ChainRead(ReadModel):
    pipeline_id: int
    stage_id: int
    version: int = Field(description="0 while no chain was ever saved")
    actions: list[Action]
    created_at: datetime | None = Field(default=None, description="When this version was saved")
    created_by_id: int | None = None
    action_id: str | None = Field(
        default=None, description="The action this request inserted or changed"
    )


class ActionIn(WriteModel):
    type: Annotated[str, Line(30)] = Field(examples=["create_task"])
    config: JsonObject = Field(default_factory=dict)


class ActionInsert(WriteModel):
    action: ActionIn = Field(examples=[ACTION_EXAMPLE])
    position: Position | None = Field(
        default=None, description="Index in the target list; the end if absent"
    )
    parent_action_id: Annotated[str, Line(20)] | None = Field(
        default=None, description="Insert inside this branch action instead of the top level"
    )
    branch: Literal["then", "else"] = "then"


class ActionPatch(WriteModel):
    config: JsonObject = Field(
        description="Config keys to change; null removes a key so its default applies",
        examples=[{"title": "Call again", "due_in": "P2D"}],
    )


class CommentIn(WriteModel):
    text: Annotated[str, Text(5000, min_length=1)] = Field(
        examples=["Shouldn't this wait for a reply first?"]
    )


class CommentRead(Comment):
    action_id: str


class DryRunIn(WriteModel):
    lead_id: Id


class DryRunRead(ReadModel):
    pipeline_id: int
    stage_id: int
    lead_id: int
    version: int
    at: datetime = Field(description="The moment the dry run assumes the lead enters the stage")
    steps: list[PlannedStep]


class ChainStepRead(ReadModel):
    action_id: str
    seq: int
    type: str
    status: str = Field(examples=["completed"])
    started_at: datetime
    ended_at: datetime | None
    result: dict[str, Any] | None
    error: str | None


class ChainRunRead(ReadModel):
    id: int
    workflow_id: str
    pipeline_id: int
    stage_id: int
    version: int
    status: str = Field(examples=["running"])
    started_at: datetime
    ended_at: datetime | None
    steps: list[ChainStepRead]
