"""Pipeline stages: kinds, order and the moves between them (STG-*)."""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class PipelineObject(StrEnum):
    LEAD = "lead"
    DEAL = "deal"


class StageKind(StrEnum):
    OPEN = "open"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    # Deal pipelines close as won or lost.
    WON = "won"
    LOST = "lost"


LEAD_KINDS: tuple[StageKind, ...] = (StageKind.OPEN, StageKind.QUALIFIED, StageKind.DISQUALIFIED)
DEAL_KINDS: tuple[StageKind, ...] = (StageKind.OPEN, StageKind.WON, StageKind.LOST)
CLOSED_KINDS = frozenset(
    {StageKind.QUALIFIED, StageKind.DISQUALIFIED, StageKind.WON, StageKind.LOST}
)


def kinds_for(obj: PipelineObject) -> tuple[StageKind, ...]:
    """The stage kinds a pipeline of `obj` uses, in the order their groups appear."""
    return LEAD_KINDS if obj == PipelineObject.LEAD else DEAL_KINDS


def is_closed(kind: StageKind) -> bool:
    return kind in CLOSED_KINDS


@dataclass(frozen=True)
class StageSpec:
    label: str
    kind: StageKind


# STG-3: the default lead pipeline a fresh account starts with.
DEFAULT_LEAD_STAGES: tuple[StageSpec, ...] = (
    StageSpec("New", StageKind.OPEN),
    StageSpec("Attempting", StageKind.OPEN),
    StageSpec("Connected", StageKind.OPEN),
    StageSpec("Qualified", StageKind.QUALIFIED),
    StageSpec("Disqualified", StageKind.DISQUALIFIED),
)

DEFAULT_DEAL_STAGES: tuple[StageSpec, ...] = (
    StageSpec("Appointment scheduled", StageKind.OPEN),
    StageSpec("Qualified to buy", StageKind.OPEN),
    StageSpec("Presentation scheduled", StageKind.OPEN),
    StageSpec("Decision maker bought-in", StageKind.OPEN),
    StageSpec("Contract sent", StageKind.OPEN),
    StageSpec("Closed won", StageKind.WON),
    StageSpec("Closed lost", StageKind.LOST),
)


def is_backward(from_position: int, to_position: int) -> bool:
    """A move to an earlier stage (STG-7 order); AUT-8 turns automation off after one."""
    return to_position < from_position


def missing_kinds(obj: PipelineObject, kinds: Sequence[StageKind]) -> list[StageKind]:
    """The kind groups a pipeline would be left without (each needs at least one stage)."""
    present = set(kinds)
    return [k for k in kinds_for(obj) if k not in present]
