"""Backtest bodies (a save body plus `days`) and answers.

The answer has the contract's keys (`window`, `leads`, `moves`, `runs_started`, `effects`,
`examples`, `actual`, `approximate`) and, beside them, the detail behind the counts:
`follow_ups`, `runs_by_stage`, `steps`, `differences` (lead by lead), `approximate_reasons`,
`activities` and `truncated`.
"""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from api.schemas.automation import AutomationIO
from api.schemas.chains import ChainWrite
from api.schemas.common import ReadModel, WriteModel
from domain.backtests import DEFAULT_DAYS, EXAMPLES, MAX_DAYS, Comparison, Outcome, Tally
from domain.bounds import Instant


class WindowIn(WriteModel):
    start: Instant = Field(description="Start, included")
    end: Instant = Field(description="End, excluded; not in the future")


class _WindowFields(WriteModel):
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = Field(
        default=None,
        description=f"The last this many days up to now; {DEFAULT_DAYS} when neither days nor "
        "window is given",
    )
    window: WindowIn | None = Field(
        default=None,
        description=f"Instead of days: a past window of at most {MAX_DAYS} days",
    )


class AutomationBacktestIn(AutomationIO, _WindowFields):
    """The body `PUT .../automation` takes, with the days to replay."""


class ChainBacktestIn(ChainWrite, _WindowFields):
    """The body `PUT .../chain` takes, with the days to replay."""


class WindowRead(ReadModel):
    start: datetime = Field(description="Included")
    end: datetime = Field(description="Excluded")


class ExampleRead(ReadModel):
    lead_id: int
    what: str = Field(
        description="What the proposal would have done to the lead: `<count>.<key>` naming "
        "the count of this answer it belongs to",
        examples=["moves.advance_on_outreach", "effects.send_email", "runs_started.12"],
    )


class CountsRead(ReadModel):
    """What really happened in the window, in the shapes of the proposal's counts."""

    moves: dict[str, int] = Field(description="Automatic stage moves made, per rule")
    runs_started: int = Field(description="Stage chain runs started")
    effects: dict[str, int] = Field(description="Chain steps that did something, per type")
    follow_ups: int = Field(description="Follow-up leads created (AUT-12)")
    runs_by_stage: dict[str, int] = Field(description="Chain runs started, per stage id")
    steps: dict[str, int] = Field(description="Chain backtests: runs reaching each action id")


class DifferenceRead(ReadModel):
    proposed: int = Field(description="What the proposal would have done")
    actual: int = Field(description="What was stored as done")
    difference: int = Field(description="proposed - actual")
    added: int = Field(description="Done by the proposal beyond what happened, lead by lead")
    prevented: int = Field(description="Happened, but the proposal would not have done it")
    added_examples: list[int] = Field(
        description=f"Up to {EXAMPLES} leads the proposal does more of this to"
    )
    prevented_examples: list[int] = Field(
        description=f"Up to {EXAMPLES} leads the proposal does less of this to"
    )


class DifferencesRead(ReadModel):
    """Per count and key, the proposal against what happened, lead by lead."""

    moves: dict[str, DifferenceRead]
    follow_ups: dict[str, DifferenceRead]
    runs_started: dict[str, DifferenceRead] = Field(description="Per stage id")
    effects: dict[str, DifferenceRead]
    steps: dict[str, DifferenceRead]


class ReasonRead(ReadModel):
    code: str = Field(examples=["replies_unknown"])
    detail: str


class BacktestRead(ReadModel):
    window: WindowRead
    leads: int = Field(description="Leads replayed: those that existed in the window")
    moves: dict[str, int] = Field(
        description="Automatic stage moves the proposal would have made, per rule (a chain "
        "moves no lead: empty for chain backtests)"
    )
    runs_started: int = Field(description="Stage chain runs the proposal would have started")
    effects: dict[str, int] = Field(
        description="Chain actions that would have done something, per action type"
    )
    examples: list[ExampleRead] = Field(
        description=f"Up to {EXAMPLES} leads per counted thing, by `what` then lead id"
    )
    actual: CountsRead
    approximate: bool = Field(description="Some counts rest on what the replay cannot know")
    follow_ups: int = Field(description="Follow-up leads the proposal would have created")
    runs_by_stage: dict[str, int] = Field(description="`runs_started` per stage id")
    steps: dict[str, int] = Field(description="Chain backtests: runs reaching each action id")
    differences: DifferencesRead
    approximate_reasons: list[ReasonRead]
    activities: int = Field(description="Activities of those leads replayed")
    truncated: bool = Field(description="The replay stopped at its bounds; counts cover less")
    truncated_reason: str | None = None


def _proposed(comparisons: list[Comparison]) -> dict[str, int]:
    return {c.key: c.proposed for c in comparisons}


def _actual(comparisons: list[Comparison]) -> dict[str, int]:
    return {c.key: c.actual for c in comparisons}


def _differences(comparisons: list[Comparison]) -> dict[str, DifferenceRead]:
    return {
        c.key: DifferenceRead(
            proposed=c.proposed,
            actual=c.actual,
            difference=c.difference,
            added=c.added,
            prevented=c.prevented,
            added_examples=list(c.added_examples),
            prevented_examples=list(c.prevented_examples),
        )
        for c in comparisons
    }


def backtest_read(outcome: Outcome) -> BacktestRead:
    reasons = outcome.reasons()
    tallies: dict[str, Tally] = {
        "moves": outcome.moves,
        "follow_ups": outcome.follow_ups,
        "runs_started": outcome.runs,
        "effects": outcome.effects,
        "steps": outcome.steps,
    }
    counted = {name: tally.comparisons() for name, tally in tallies.items()}
    examples = [
        ExampleRead(lead_id=lead_id, what=f"{name}.{c.key}")
        for name, comparisons in counted.items()
        for c in comparisons
        for lead_id in c.examples
    ]
    runs = counted["runs_started"]
    return BacktestRead(
        window=WindowRead(start=outcome.window.start, end=outcome.window.end),
        leads=outcome.leads_considered,
        moves=_proposed(counted["moves"]),
        runs_started=sum(c.proposed for c in runs),
        effects=_proposed(counted["effects"]),
        examples=examples,
        actual=CountsRead(
            moves=_actual(counted["moves"]),
            runs_started=sum(c.actual for c in runs),
            effects=_actual(counted["effects"]),
            follow_ups=sum(c.actual for c in counted["follow_ups"]),
            runs_by_stage=_actual(runs),
            steps=_actual(counted["steps"]),
        ),
        approximate=bool(reasons),
        follow_ups=sum(c.proposed for c in counted["follow_ups"]),
        runs_by_stage=_proposed(runs),
        steps=_proposed(counted["steps"]),
        differences=DifferencesRead(
            **{name: _differences(comparisons) for name, comparisons in counted.items()}
        ),
        approximate_reasons=[ReasonRead(code=r.code, detail=r.detail) for r in reasons],
        activities=outcome.activities_considered,
        truncated=outcome.truncated is not None,
        truncated_reason=outcome.truncated,
    )
