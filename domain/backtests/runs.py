"""One stage chain run replayed over a stage entry of the past (ACT-1): which actions would
have run, and when, until the lead left the stage or the window ended.

It takes the run as `workflows/stage_chain.py` takes it: actions in order, branches decided
on the lead's data (`evaluate_condition`), delays ended by `resolve_delay` or, for
`until_event`, by the first such activity of the lead stored after the delay began; a lead
leaving the stage stops the run before its next action, and an email to nobody is skipped.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.chains import (
    DELAY_EVENT_TYPES,
    Action,
    BranchAction,
    ChainContext,
    DelayAction,
    DelayKind,
    SendEmailAction,
    evaluate_condition,
    plan_action,
    resolve_delay,
    walk,
)

# Actions that only steer the run: they have no effect of their own.
CONTROL_TYPES = frozenset({"delay", "branch"})


class RunEnd(StrEnum):
    COMPLETED = "completed"
    # The lead left the stage first.
    STOPPED = "stopped"
    # Still going when the window ended: later actions are outside it.
    RUNNING = "running"


@dataclass(frozen=True, slots=True)
class StepTaken:
    action_id: str
    type: str
    at: datetime
    # False for an action that ran and did nothing (an email with no address).
    is_effect: bool


@dataclass
class RunReplay:
    steps: list[StepTaken] = field(default_factory=list)
    end: RunEnd = RunEnd.COMPLETED

    def effects(self) -> list[StepTaken]:
        return [s for s in self.steps if s.is_effect]


@dataclass(frozen=True, slots=True)
class LeadActivity:
    """An activity of the lead as a running chain hears of it (`lead_event`)."""

    at: datetime
    type: str


@dataclass
class _Run:
    context: ChainContext
    stop_at: datetime | None
    window_end: datetime
    activities: Sequence[LeadActivity]
    now: datetime
    replay: RunReplay = field(default_factory=RunReplay)

    def limit(self) -> tuple[datetime, RunEnd]:
        if self.stop_at is not None and self.stop_at <= self.window_end:
            return self.stop_at, RunEnd.STOPPED
        return self.window_end, RunEnd.RUNNING


def replay_run(
    actions: Sequence[Action],
    context: ChainContext,
    started_at: datetime,
    left_at: datetime | None,
    window_end: datetime,
    activities: Sequence[LeadActivity] = (),
) -> RunReplay:
    """The run of `actions` for a stage entry at `started_at`, the lead leaving at `left_at`
    (None: it stayed), counted up to `window_end`. `activities` in time order."""
    run = _Run(context, left_at, window_end, activities, started_at)
    if _actions(run, actions):
        run.replay.end = RunEnd.COMPLETED
    return run.replay


def _actions(run: _Run, actions: Sequence[Action]) -> bool:
    """True when every action had its turn."""
    for action in actions:
        limit, end = run.limit()
        if run.now >= limit:
            run.replay.end = end
            return False
        if isinstance(action, DelayAction):
            run.replay.steps.append(StepTaken(action.id, action.type, run.now, False))
            ends_at = _delay_end(run, action)
            if ends_at >= limit and ends_at > run.now:
                run.replay.end = end
                return False
            run.now = ends_at
        elif isinstance(action, BranchAction):
            run.replay.steps.append(StepTaken(action.id, action.type, run.now, False))
            holds = evaluate_condition(action.config.if_, run.context)
            taken = action.config.then if holds else (action.config.else_ or [])
            if not _actions(run, taken):
                return False
        else:
            run.replay.steps.append(
                StepTaken(action.id, action.type, run.now, _has_effect(action, run))
            )
    return True


def _delay_end(run: _Run, action: DelayAction) -> datetime:
    config = action.config
    ends_at = resolve_delay(config, run.now)
    if config.kind == DelayKind.UNTIL_EVENT:
        wanted = DELAY_EVENT_TYPES.get(config.until_event or "", frozenset())
        heard = next(
            (a.at for a in run.activities if run.now <= a.at < ends_at and a.type in wanted),
            None,
        )
        if heard is not None:
            return heard
    return ends_at


def _has_effect(action: Action, run: _Run) -> bool:
    if isinstance(action, SendEmailAction):
        # The effect skips an email whose recipient has no address; planning says the same.
        return plan_action(action, run.context, run.now).details.get("to") is not None
    return True


@dataclass(frozen=True)
class ChainTraits:
    """What about a chain the replay cannot know exactly."""

    has_branches: bool
    waits_for_events: bool
    sends_email: bool
    calls_webhooks: bool


def chain_traits(actions: Sequence[Action]) -> ChainTraits:
    all_actions = [a for _, _, a in walk(actions)]
    return ChainTraits(
        has_branches=any(isinstance(a, BranchAction) for a in all_actions),
        waits_for_events=any(
            isinstance(a, DelayAction) and a.config.kind == DelayKind.UNTIL_EVENT
            for a in all_actions
        ),
        sends_email=any(isinstance(a, SendEmailAction) for a in all_actions),
        calls_webhooks=any(a.type == "webhook" for a in all_actions),
    )
