"""A stage chain's workflow-level settings (ACT-7)."""

from datetime import datetime, time
from typing import Annotated

from pydantic import Field, Strict

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Flag, Line, NotNull, TimeZoneName
from domain.chains.settings import MAX_REENROLLMENT_DAYS, OnLeave, ReEnrollment
from domain.chains.windows import ExecutionWindow

ChainName = Annotated[str, Line(200, min_length=1)]
ReEnrollmentDays = Annotated[int, Strict(), Field(ge=1, le=MAX_REENROLLMENT_DAYS)]
IsoWeekday = Annotated[int, Strict(), Field(ge=1, le=7)]


class WindowWrite(WriteModel):
    """Checked whole: weekdays each once, `start` before `end` (rule `start_before_end`)."""

    weekdays: list[IsoWeekday] = Field(
        min_length=1,
        max_length=7,
        examples=[[1, 2, 3, 4, 5]],
        description="ISO weekdays, 1 (Monday) to 7 (Sunday); at least one, each once",
        json_schema_extra={"uniqueItems": True},
    )
    start: time = Field(examples=["09:00"], description="Opening time on the wall clock")
    end: time = Field(examples=["17:00"], description="Closing time, later than start")
    time_zone: TimeZoneName


class ChainSettingsPatch(WriteModel):
    """The settings to change; those left out stay. Runs already going keep theirs."""

    name: ChainName | None = Field(
        default=None, description="null: the stage's label", examples=["Attempting follow-up"]
    )
    enabled: Annotated[Flag | None, NotNull()] = Field(
        default=None, description="Off: new stage entries start nothing; running runs go on"
    )
    re_enrollment: Annotated[ReEnrollment | None, NotNull()] = Field(
        default=None,
        description="Which entries of a lead start a run: every one, the first only, or at "
        "most one per `days`. Leaving once_per_days drops `days`.",
    )
    days: ReEnrollmentDays | None = Field(
        default=None,
        description=f"With once_per_days (required there, refused otherwise): 1 to "
        f"{MAX_REENROLLMENT_DAYS}",
    )
    window: WindowWrite | None = Field(
        default=None,
        description="When steps may run; a step due outside waits for the next opening. "
        "null: any time.",
    )
    on_leave: Annotated[OnLeave | None, NotNull()] = Field(
        default=None,
        description="When the lead leaves the stage: `stop` the run at its next step, or "
        "`finish` it",
    )


class ChainSettingsRead(ReadModel):
    pipeline_id: int
    stage_id: int
    workflow_id: str = Field(
        description="The chain's own id (ACT-7): the same in every version; runs are "
        "`chain-<lead>-<entry>-v<version>`",
        examples=["stage-chain-12"],
    )
    version: int = Field(description="The chain version these settings belong to; 0: none saved")
    name: str = Field(description="The chain's name; the stage's label until one is set")
    enabled: bool
    re_enrollment: ReEnrollment
    days: int | None = None
    window: ExecutionWindow | None = None
    on_leave: OnLeave
    created_at: datetime | None = Field(default=None, description="When this version was saved")
    created_by_id: int | None = None
