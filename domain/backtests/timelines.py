"""A lead's stage timeline replayed under proposed progression rules (AUT-2 to AUT-8, AUT-12).

The replay is the lead workflow's own decision path, fed from what was stored: activities in
the order they arrived, each placed in time by `domain.progression.replay_in_order`; moves by
people, chains and creation as they were made (a person's move to an earlier stage switches
automation off, AUT-8); automatic moves of the past left out, since the rules under test make
their own. Pure: the caller reads the rows.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from heapq import merge
from itertools import pairwise

from domain.activities import LeadEvent
from domain.automation import FollowUpRule
from domain.backtests.windows import Window
from domain.leads import EventWindow, LeadSnapshot, MoveCause
from domain.progression import (
    ProgressionConfig,
    ProgressionRuleView,
    choose_rule,
    replay_in_order,
)
from domain.stages import StageKind, is_backward

AUTOMATION_PREFIX = MoveCause.automation("")


@dataclass(frozen=True, slots=True)
class StageInfo:
    position: int
    kind: str


@dataclass(frozen=True, slots=True)
class StoredMove:
    """A row of the lead's stage history."""

    at: datetime
    from_stage_id: int | None
    to_stage_id: int
    cause: str
    disqualification_reason_id: int | None = None

    @property
    def is_automatic(self) -> bool:
        return self.cause.startswith(AUTOMATION_PREFIX)

    @property
    def rule(self) -> str:
        return self.cause.removeprefix(AUTOMATION_PREFIX)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An activity delivered to the lead: `arrived_at` orders it, `occurred_at` places it."""

    activity_id: int
    event_id: str
    type: str
    occurred_at: datetime
    arrived_at: datetime
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class LeadRecord:
    lead_id: int
    pipeline_id: int
    # The lead as it is now: automation never comes back on once switched off (AUT-8).
    auto_progression: bool
    # Every history row before the window's end, oldest first.
    moves: Sequence[StoredMove]
    # Activities that occurred in the window, in arrival order.
    events: Sequence[StoredEvent]


@dataclass(frozen=True, slots=True)
class Entry:
    """The lead entering a stage inside the window: where a stage chain run starts (ACT-1)."""

    stage_id: int
    at: datetime
    cause: str
    # When the lead left the stage again inside the window; None if it stayed.
    left_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AutomaticMove:
    rule: str
    from_stage_id: int
    to_stage_id: int
    at: datetime


@dataclass
class Timeline:
    moves: list[AutomaticMove] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    # Disqualifications that create a follow-up lead (AUT-12), by the time they were made.
    follow_ups: list[datetime] = field(default_factory=list)
    # Stored moves made from another stage than the replay has the lead in: replayed as made.
    diverged: int = 0
    # Whether the lead existed at any time in the window.
    existed: bool = False


def stored_entries(record: LeadRecord, window: Window) -> list[Entry]:
    """The stage entries that happened in the window, each with when the lead left."""
    entries: list[Entry] = []
    for move in record.moves:
        if not window.holds(move.at):
            continue
        if entries and entries[-1].left_at is None:
            entries[-1] = _left(entries[-1], move.at)
        entries.append(Entry(move.to_stage_id, move.at, move.cause))
    return entries


def _left(entry: Entry, at: datetime) -> Entry:
    return Entry(entry.stage_id, entry.at, entry.cause, at)


def _snapshot(
    record: LeadRecord, stage_id: int, stages: dict[int, StageInfo], is_default: bool
) -> LeadSnapshot:
    info = stages.get(stage_id)
    return LeadSnapshot(
        lead_id=record.lead_id,
        name="",
        pipeline_id=record.pipeline_id,
        pipeline_label="",
        is_default_pipeline=is_default,
        stage_id=stage_id,
        stage_label="",
        stage_kind=info.kind if info else StageKind.OPEN.value,
    )


def _is_backward_move(stages: dict[int, StageInfo], from_id: int | None, to_id: int) -> bool:
    before, after = stages.get(from_id) if from_id is not None else None, stages.get(to_id)
    return before is not None and after is not None and is_backward(before.position, after.position)


def _start(
    record: LeadRecord, window: Window, stages: dict[int, StageInfo], is_default: bool
) -> LeadSnapshot | None:
    """The lead as it stood at the window's start; None if it did not exist yet."""
    earlier = [m for m in record.moves if m.at < window.start]
    if not earlier:
        return None
    manual = [m.at for m in earlier if m.cause == MoveCause.MANUAL]
    # Off now and no backward manual move in the window: it was off from before (AUT-8).
    switched_off_inside = any(
        m.cause == MoveCause.MANUAL and _is_backward_move(stages, m.from_stage_id, m.to_stage_id)
        for m in record.moves
        if window.holds(m.at)
    )
    return _snapshot(record, earlier[-1].to_stage_id, stages, is_default).model_copy(
        update={
            "auto_progression": record.auto_progression or switched_off_inside,
            "last_manual_move_at": max(manual) if manual else None,
        }
    )


def replay_timeline(
    record: LeadRecord,
    window: Window,
    config: ProgressionConfig,
    follow_up: FollowUpRule,
    stages: dict[int, StageInfo],
) -> Timeline:
    """What the lead's stages would have been in the window under `config` and `follow_up`.

    `stages` maps the pipeline's stage ids to their position and kind; whether the pipeline
    is the default one comes with `config` (AUT-2).
    """
    is_default = bool(config.is_default)
    timeline = Timeline()
    lead = _start(record, window, stages, is_default)
    timeline.existed = lead is not None
    event_window = EventWindow()
    stored = [m for m in record.moves if window.holds(m.at) and not m.is_automatic]
    # Events that all arrived in time order are placed where they arrive: `replay_in_order`
    # then plans exactly what `choose_rule` picks, which is the cheaper call.
    in_order = all(a.occurred_at <= b.occurred_at for a, b in pairwise(record.events))
    # Arrival order; a stage change written in the same instant as an event goes first.
    items: Iterable[tuple[datetime, int, int, StoredMove | StoredEvent]] = merge(
        ((m.at, 0, i, m) for i, m in enumerate(stored)),
        ((e.arrived_at, 1, i, e) for i, e in enumerate(record.events)),
        key=lambda item: item[:3],
    )
    for _, _, _, item in items:
        if isinstance(item, StoredMove):
            lead = _apply_stored(lead, item, record, stages, is_default, timeline, follow_up)
            timeline.existed = True
            continue
        if lead is None or not item.kinds or not lead.auto_progression or lead.is_closed:
            continue
        if not lead.is_default_pipeline:
            continue
        planned: Sequence[ProgressionRuleView]
        if in_order:
            rule = choose_rule(config, lead, item.kinds, item.occurred_at)
            planned = (rule,) if rule is not None else ()
        else:
            event = LeadEvent(
                event_id=item.event_id,
                activity_id=item.activity_id,
                type=item.type,
                occurred_at=item.occurred_at,
                kinds=item.kinds,
            )
            replay = replay_in_order(config, lead, event_window, event)
            event_window = replay.window
            planned = [move.rule for move in replay.moves]
        for rule in planned:
            if lead.stage_id != rule.from_stage_id or rule.to_stage_id is None:
                break
            timeline.moves.append(
                AutomaticMove(rule.name, lead.stage_id, rule.to_stage_id, item.arrived_at)
            )
            lead = _moved(lead, rule.to_stage_id, stages)
            _enter(
                timeline, Entry(rule.to_stage_id, item.arrived_at, MoveCause.automation(rule.name))
            )
    return timeline


def _moved(lead: LeadSnapshot, stage_id: int, stages: dict[int, StageInfo]) -> LeadSnapshot:
    info = stages.get(stage_id)
    kind = info.kind if info else StageKind.OPEN.value
    return lead.model_copy(update={"stage_id": stage_id, "stage_kind": kind})


def _enter(timeline: Timeline, entry: Entry) -> None:
    if timeline.entries and timeline.entries[-1].left_at is None:
        timeline.entries[-1] = _left(timeline.entries[-1], entry.at)
    timeline.entries.append(entry)


def _apply_stored(
    lead: LeadSnapshot | None,
    move: StoredMove,
    record: LeadRecord,
    stages: dict[int, StageInfo],
    is_default: bool,
    timeline: Timeline,
    follow_up: FollowUpRule,
) -> LeadSnapshot:
    """A move a person, a chain or creation made, replayed as it was made."""
    if lead is None:
        # Created in the window: a new lead starts with automation on.
        lead = _snapshot(record, move.to_stage_id, stages, is_default)
        _enter(timeline, Entry(move.to_stage_id, move.at, move.cause))
        return lead
    if move.from_stage_id != lead.stage_id:
        timeline.diverged += 1
    if move.to_stage_id == lead.stage_id:
        return lead  # the replay has the lead there already
    update: dict[str, object] = {}
    if move.cause == MoveCause.MANUAL:
        update["last_manual_move_at"] = move.at
        if _is_backward_move(stages, lead.stage_id, move.to_stage_id):
            update["auto_progression"] = False
    lead = _moved(lead, move.to_stage_id, stages).model_copy(update=update)
    _enter(timeline, Entry(move.to_stage_id, move.at, move.cause))
    info = stages.get(move.to_stage_id)
    if (
        info is not None
        and info.kind == StageKind.DISQUALIFIED
        and follow_up.creates_follow_up(move.disqualification_reason_id)
    ):
        timeline.follow_ups.append(move.at)
    return lead
