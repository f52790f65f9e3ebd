"""Which templated rule, if any, moves a lead on an event (AUT-2, AUT-3, AUT-4, AUT-7, AUT-8),
and how an event that arrives after later ones is applied in its place.

Pure and deterministic: the lead workflow calls it with configuration read by an activity.
"""

from bisect import bisect_right
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.activities import LeadEvent
from domain.leads import AppliedEvent, EventWindow, LeadSnapshot

# How far back a late event can be placed: the lead's last this many automation events.
EVENTS_KEPT = 50


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ProgressionRuleView(_Frozen):
    """A progression rule with its stages' positions, as the workflow needs it."""

    name: str
    enabled: bool
    from_stage_id: int | None
    to_stage_id: int | None
    from_position: int | None = None
    to_position: int | None = None
    events: tuple[str, ...] = ()


class ProgressionConfig(_Frozen):
    pipeline_id: int
    rules: tuple[ProgressionRuleView, ...] = ()
    # Whether the pipeline is the default one when read (AUT-2); None in histories from before.
    is_default: bool | None = None


class LoadProgressionInput(_Frozen):
    pipeline_id: int


def choose_rule(
    config: ProgressionConfig,
    lead: LeadSnapshot,
    event_kinds: tuple[str, ...],
    occurred_at: datetime,
) -> ProgressionRuleView | None:
    """The rule this event fires for this lead, or None. One event moves a lead one step."""
    if not lead.is_default_pipeline or lead.is_closed or not lead.auto_progression:
        return None
    # Events from before a person last moved the lead speak of a state that no longer holds.
    if lead.last_manual_move_at is not None and occurred_at < lead.last_manual_move_at:
        return None
    for rule in config.rules:
        if (
            rule.enabled
            and rule.from_stage_id == lead.stage_id
            and rule.to_stage_id is not None
            and rule.to_stage_id != lead.stage_id
            # Never backwards, whatever an admin configured.
            and (
                rule.from_position is None
                or rule.to_position is None
                or rule.to_position > rule.from_position
            )
            and any(kind in rule.events for kind in event_kinds)
        ):
            return rule
    return None


class PlannedMove(_Frozen):
    rule: ProgressionRuleView
    # The event whose rule fires: the arriving one, or a later one applied again after it.
    event_id: str


class Replay(_Frozen):
    """What applying an event in its place in time does to a lead."""

    # The automatic moves to make now, in order, starting from the lead's current stage.
    moves: tuple[PlannedMove, ...]
    # The moves applying the event on arrival makes (workflow histories from before).
    arrival_moves: tuple[PlannedMove, ...]
    # The window to keep; its stage is where the moves take the lead.
    window: EventWindow
    # The event went before events already applied.
    is_late: bool


def replay_in_order(
    config: ProgressionConfig, lead: LeadSnapshot, window: EventWindow, event: LeadEvent
) -> Replay:
    """Apply `event` as if it had arrived in `occurred_at` order among the window's events.

    The kept events from the event's place on are applied again, after it, from the stage
    the lead was in at that place; the lead then takes those of the resulting moves that
    start at its current stage. So it ends where in-order application puts it, as far as
    automation can take it from where it is: never backwards (moves are rules, and rules go
    forward), and not at all for an event older than the lead's last manual move (AUT-8).
    A window built on another stage or before the last manual move is void: the lead was
    moved otherwise since, which is a barrier no late event crosses. Events with equal times
    keep their arrival order.
    """
    rule = choose_rule(config, lead, event.kinds, event.occurred_at)
    arrival = (PlannedMove(rule=rule, event_id=event.event_id),) if rule is not None else ()
    valid = (
        window.stage_id == lead.stage_id and window.last_manual_move_at == lead.last_manual_move_at
    )
    kept = window.events if valid else ()
    place = bisect_right([e.occurred_at for e in kept], event.occurred_at)
    arriving = AppliedEvent(
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        kinds=event.kinds,
        stage_id=lead.stage_id,
    )
    if place == len(kept):
        events = (*kept, arriving)
        return Replay(
            moves=arrival,
            arrival_moves=arrival,
            window=_window(events, rule.to_stage_id if rule else None, lead),
            is_late=False,
        )
    stage = kept[place].stage_id
    redone: list[AppliedEvent] = []
    chain: list[tuple[int, PlannedMove]] = []
    # The lead as it would stand at each stage, copied once per stage: backtests replay
    # hundreds of thousands of late events through here.
    at_stage = {lead.stage_id: lead}
    for e in (arriving, *kept[place:]):
        redone.append(e if e.stage_id == stage else e.model_copy(update={"stage_id": stage}))
        there = at_stage.get(stage)
        if there is None:
            there = at_stage[stage] = lead.model_copy(update={"stage_id": stage})
        fired = choose_rule(config, there, e.kinds, e.occurred_at)
        if fired is not None and fired.to_stage_id is not None:
            chain.append((stage, PlannedMove(rule=fired, event_id=e.event_id)))
            stage = fired.to_stage_id
    start = next((i for i, (at, _) in enumerate(chain) if at == lead.stage_id), len(chain))
    return Replay(
        moves=tuple(move for _, move in chain[start:]),
        arrival_moves=arrival,
        window=_window((*kept[:place], *redone), stage, lead),
        is_late=True,
    )


def _window(
    events: tuple[AppliedEvent, ...], stage_id: int | None, lead: LeadSnapshot
) -> EventWindow:
    return EventWindow(
        events=events[-EVENTS_KEPT:],
        stage_id=stage_id if stage_id is not None else lead.stage_id,
        last_manual_move_at=lead.last_manual_move_at,
    )
