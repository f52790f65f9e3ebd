"""A chain's workflow-level settings (ACT-7), versioned with its actions, and who may enroll.

A stage has one chain for its whole life, so the chain's workflow id derives from the stage and
stays the same across versions; "a lead's runs of this chain" are its runs for that stage,
whatever their version. A run is pinned to the settings of the version it started with.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from domain.bounds import Line
from domain.chains.base import _Model
from domain.chains.windows import ExecutionWindow
from domain.errors import FieldError, InvalidInput

MAX_REENROLLMENT_DAYS = 3650
"""The longest `once_per_days` spacing: ten years."""


class ReEnrollment(StrEnum):
    """Which entries of a lead into the stage start a run."""

    EVERY_ENTRY = "every_entry"
    FIRST_ENTRY_ONLY = "first_entry_only"
    ONCE_PER_DAYS = "once_per_days"


class OnLeave(StrEnum):
    """What a run does when its lead leaves the stage."""

    STOP = "stop"
    FINISH = "finish"


class ChainSettings(_Model):
    name: Annotated[str, Line(200, min_length=1)] | None = Field(
        default=None, description="The stage's label while none is set"
    )
    enabled: bool = Field(
        default=True, description="Off: new stage entries start nothing; running runs go on"
    )
    re_enrollment: ReEnrollment = ReEnrollment.EVERY_ENTRY
    days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_REENROLLMENT_DAYS,
        description="With once_per_days: a lead's runs of this chain start at least this many "
        "days apart",
    )
    window: ExecutionWindow | None = Field(
        default=None, description="Steps due outside it wait for its next opening; null: any time"
    )
    on_leave: OnLeave = Field(
        default=OnLeave.STOP,
        description="stop: the run stops at its next step; finish: it runs to its end",
    )

    @model_validator(mode="after")
    def _days_with_once_per_days(self) -> "ChainSettings":
        if self.re_enrollment == ReEnrollment.ONCE_PER_DAYS and self.days is None:
            raise PydanticCustomError("days_required", "once_per_days needs days")
        if self.re_enrollment != ReEnrollment.ONCE_PER_DAYS and self.days is not None:
            raise PydanticCustomError("days_unused", "days only goes with once_per_days")
        return self


# Rules a whole model breaks, reported on the field a client would change.
_MODEL_RULE_FIELDS = {
    "days_required": "days",
    "days_unused": "days",
    "start_before_end": "window.end",
}


def parse_settings(raw: Mapping[str, Any]) -> ChainSettings:
    """Validated settings from their JSON form. Raises InvalidInput naming each broken field
    (`days`, `window.time_zone`, `window.weekdays.0`)."""
    try:
        return ChainSettings.model_validate(raw)
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            field = ".".join(str(part) for part in e["loc"])
            mapped = _MODEL_RULE_FIELDS.get(e["type"])
            if mapped is not None and (not field or mapped.startswith(field)):
                field = mapped
            errors.append(FieldError(field, e["type"], e["msg"]))
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors) from None


def dump_settings(settings: ChainSettings) -> dict[str, Any]:
    """The JSON form a chain version stores; unset options are left out."""
    return settings.model_dump(mode="json", exclude_none=True)


def enrollment_refusal(
    settings: ChainSettings, past_starts: Sequence[datetime], now: datetime
) -> str | None:
    """Why a stage entry starts no run of the chain, or None when it starts one.

    `past_starts`: when the lead's earlier runs of this chain (any version, any outcome)
    started; its run for this very entry is not among them.
    """
    if not settings.enabled:
        return "the chain is switched off"
    if not past_starts:
        return None
    if settings.re_enrollment == ReEnrollment.FIRST_ENTRY_ONLY:
        return "the lead already ran this chain, which runs on a first entry only"
    if settings.re_enrollment == ReEnrollment.ONCE_PER_DAYS:
        assert settings.days is not None
        if now - max(past_starts) < timedelta(days=settings.days):
            return f"the lead ran this chain less than {settings.days} days ago"
    return None


def chain_workflow_name(stage_id: int) -> str:
    """The chain's workflow id (ACT-7): one per stage, the same in every version."""
    return f"stage-chain-{stage_id}"
