from typing import Annotated

from pydantic import ConfigDict, Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Flag, Id, Label, NotNull, Position
from domain.stages import PipelineObject, StageKind


class StageIn(WriteModel):
    label: Label
    kind: StageKind


class PipelineCreate(WriteModel):
    object: PipelineObject
    label: Label
    stages: list[StageIn] = Field(
        min_length=1,
        max_length=100,
        description="In order; grouped by kind (open first). A lead pipeline needs open, "
        "qualified and disqualified stages, a deal pipeline open, won and lost ones",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "object": "lead",
                    "label": "Partner leads",
                    "stages": [
                        {"label": "New", "kind": "open"},
                        {"label": "Contacted", "kind": "open"},
                        {"label": "Qualified", "kind": "qualified"},
                        {"label": "Disqualified", "kind": "disqualified"},
                    ],
                }
            ]
        }
    )


class PipelineUpdate(WriteModel):
    label: Annotated[Label | None, NotNull()] = None
    is_default: Annotated[Flag | None, NotNull()] = Field(
        default=None,
        description="`true` makes this the default pipeline (the old default stops being one)",
    )


class StageCreate(WriteModel):
    label: Label
    kind: StageKind
    position: Position | None = Field(
        default=None,
        description="The stage's position once added; must fall within (or just after) its "
        "kind group. The end of the group if absent",
    )


class StageUpdate(WriteModel):
    label: Label


class StageRead(ReadModel):
    id: int
    label: str
    position: int
    kind: StageKind


class PipelineRead(ReadModel):
    id: int
    object: PipelineObject
    label: str
    is_default: bool
    stages: list[StageRead]


class StageEditIn(WriteModel):
    id: Id | None = Field(
        default=None,
        description="An existing stage of this pipeline: kept, and renamed when `label` "
        "differs. Leave it out to add a stage",
    )
    label: Label
    kind: StageKind | None = Field(
        default=None,
        description="Required for a new stage. An existing stage keeps its kind: send the "
        "same one or leave it out",
    )


class StagesSave(WriteModel):
    """The pipeline's whole stage list, in the new order; saved all or nothing (STG-8)."""

    stages: list[StageEditIn] = Field(
        min_length=1,
        max_length=100,
        description="Every stage, in order and grouped by kind (open first). Stages of the "
        "pipeline left out are deleted, with the same refusals as a single delete",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "stages": [
                        {"id": 1, "label": "New"},
                        {"label": "Researching", "kind": "open"},
                        {"id": 2, "label": "Contacted"},
                        {"id": 4, "label": "Qualified"},
                        {"id": 5, "label": "Disqualified"},
                    ]
                }
            ]
        }
    )
