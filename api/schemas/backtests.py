"""Backtest bodies (a save body plus the window) and answers."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from api.schemas.automation import AutomationIO
from api.schemas.chains import ChainWrite
from api.schemas.common import ReadModel, WriteModel
from domain.backtests import DEFAULT_DAYS, EXAMPLES, MAX_DAYS, Comparison, Outcome
from domain.bounds import Instant


class WindowIn(WriteModel):
    from_: Instant = Field(alias="from", description="Start, included")
    to: Instant = Field(description="End, excluded; not in the future")


class _WindowFields(WriteModel):
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = Field(
        default=None,
        description=f"The last this many days up to now; {DEFAULT_DAYS} when neither days nor "
        "window is given",
    )
    window: WindowIn | None = Field(
        default=None, description=f"Instead of days: a window of at most {MAX_DAYS} days"
    )


class AutomationBacktestIn(AutomationIO, _WindowFields):
    """The body `PUT .../automation` takes, with the window to replay."""


class ChainBacktestIn(ChainWrite, _WindowFields):
    """The body `PUT .../chain` takes, with the window to replay."""


class WindowRead(ReadModel):
    from_: datetime = Field(serialization_alias="from")
    to: datetime


class CountRead(ReadModel):
    key: str = Field(
        description="A rule (moves, follow_ups), a stage id (runs_started), an action type "
        "(effects) or an action id (steps)"
    )
    proposed: int = Field(description="What the proposal would have done")
    actual: int = Field(description="What was stored as done")
    difference: int = Field(description="proposed - actual")
    added: int = Field(description="Done by the proposal beyond what happened, lead by lead")
    prevented: int = Field(description="Happened, but the proposal would not have done it")
    examples: list[int] = Field(description=f"Up to {EXAMPLES} leads the proposal does it to")
    added_examples: list[int]
    prevented_examples: list[int]


class ReasonRead(ReadModel):
    code: str = Field(examples=["replies_unknown"])
    detail: str


class BacktestRead(ReadModel):
    window: WindowRead
    leads_considered: int
    activities_considered: int
    truncated: bool = Field(description="The replay stopped at its bounds; counts cover less")
    truncated_reason: str | None = None
    approximate: bool = Field(description="Some counts rest on what the replay cannot know")
    approximate_reasons: list[ReasonRead]
    moves: list[CountRead] = Field(description="Automatic stage moves per rule")
    follow_ups: list[CountRead] = Field(description="Follow-up leads created (AUT-12)")
    runs_started: list[CountRead] = Field(description="Stage chain runs started per stage")
    effects: list[CountRead] = Field(description="Chain effects per action type")
    steps: list[CountRead] = Field(description="Chain backtests: runs reaching each action")


def _counts(comparisons: list[Comparison]) -> list[CountRead]:
    return [
        CountRead(
            key=c.key,
            proposed=c.proposed,
            actual=c.actual,
            difference=c.difference,
            added=c.added,
            prevented=c.prevented,
            examples=list(c.examples),
            added_examples=list(c.added_examples),
            prevented_examples=list(c.prevented_examples),
        )
        for c in comparisons
    ]


def backtest_read(outcome: Outcome) -> BacktestRead:
    reasons = outcome.reasons()
    return BacktestRead(
        window=WindowRead(from_=outcome.window.start, to=outcome.window.end),
        leads_considered=outcome.leads_considered,
        activities_considered=outcome.activities_considered,
        truncated=outcome.truncated is not None,
        truncated_reason=outcome.truncated,
        approximate=bool(reasons),
        approximate_reasons=[ReasonRead(code=r.code, detail=r.detail) for r in reasons],
        moves=_counts(outcome.moves.comparisons()),
        follow_ups=_counts(outcome.follow_ups.comparisons()),
        runs_started=_counts(outcome.runs.comparisons()),
        effects=_counts(outcome.effects.comparisons()),
        steps=_counts(outcome.steps.comparisons()),
    )
