from typing import Annotated

from pydantic import ConfigDict, Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Flag, Label, NotNull, Position
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
