"""A backtest's whole answer, built lead by lead: the stage moves, follow-up leads, chain runs,
effects and steps a proposal would have made, against those stored, and where the replay
cannot know.

`add_automation_lead` replays proposed progression and follow-up rules; the chains then run
as the version in force at each entry had them. `add_chain_lead` replays a proposed chain
over the stage entries that did happen. The stored side (`Tally.add_actual`) is fed by the
caller from the rows of what happened, except automatic moves, which come with the lead.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.automation import FollowUpRule, RuleName
from domain.backtests.runs import (
    CONTROL_TYPES,
    ChainTraits,
    LeadActivity,
    RunReplay,
    chain_traits,
    replay_run,
)
from domain.backtests.tallies import Tally
from domain.backtests.timelines import (
    Entry,
    LeadRecord,
    StageInfo,
    replay_timeline,
    stored_entries,
)
from domain.backtests.windows import Window
from domain.chains import Action, ChainContext
from domain.progression import ProgressionConfig

FOLLOW_UP = RuleName.FOLLOW_UP_ON_DISQUALIFY.value


@dataclass(frozen=True)
class ChainVersionAt:
    """A saved chain version and when it came into force."""

    since: datetime
    actions: Sequence[Action]


@dataclass(frozen=True)
class StageChains:
    """A stage's saved chain versions, oldest first."""

    versions: Sequence[ChainVersionAt]

    def in_force(self, at: datetime) -> Sequence[Action]:
        current: Sequence[Action] = ()
        for version in self.versions:
            if version.since <= at:
                current = version.actions
        return current


@dataclass(frozen=True)
class Reason:
    code: str
    detail: str


@dataclass
class Outcome:
    window: Window
    moves: Tally = field(default_factory=Tally)
    follow_ups: Tally = field(default_factory=Tally)
    runs: Tally = field(default_factory=Tally)
    effects: Tally = field(default_factory=Tally)
    steps: Tally = field(default_factory=Tally)
    leads_considered: int = 0
    activities_considered: int = 0
    # Stored moves made from another stage than the replay had the lead in.
    diverged: int = 0
    # Whether the proposal's replayed runs met what the replay cannot know.
    traits: set[str] = field(default_factory=set)
    # Why the replay stopped before the last lead, if it did.
    truncated: str | None = None

    @property
    def approximate(self) -> bool:
        return bool(self.reasons())

    def reasons(self) -> list[Reason]:
        found = [Reason(code, _REASONS[code]) for code in sorted(self.traits)]
        if self.diverged:
            found.append(
                Reason(
                    "stored_moves_replayed",
                    f"moves by people and chains are replayed as they were made; {self.diverged} "
                    "of them started from another stage than the replay had the lead in, and "
                    "would perhaps not have been made",
                )
            )
        return found

    def add_automation_lead(
        self,
        record: LeadRecord,
        config: ProgressionConfig,
        follow_up: FollowUpRule,
        stages: Mapping[int, StageInfo],
        chains: Mapping[int, StageChains],
        context: ChainContext | None,
    ) -> bool:
        """Replay one lead; False if it did not exist in the window (nothing counted)."""
        timeline = replay_timeline(record, self.window, config, follow_up, dict(stages))
        if not timeline.existed:
            return False
        lead_id = record.lead_id
        self._considered(record)
        self.diverged += timeline.diverged
        for move in timeline.moves:
            self.moves.add_proposed(move.rule, lead_id)
        for stored in record.moves:
            if stored.is_automatic and self.window.holds(stored.at) and stored.rule != FOLLOW_UP:
                self.moves.add_actual(stored.rule, lead_id)
        for _ in timeline.follow_ups:
            self.follow_ups.add_proposed(FOLLOW_UP, lead_id)
        heard: list[LeadActivity] | None = None
        for entry in timeline.entries:
            stage_chains = chains.get(entry.stage_id)
            actions = stage_chains.in_force(entry.at) if stage_chains else ()
            if actions:
                heard = heard if heard is not None else _heard(record)
                self._run(record, entry, actions, context, heard, str(entry.stage_id), steps=False)
        return True

    def add_chain_lead(
        self,
        record: LeadRecord,
        stage_id: int,
        actions: Sequence[Action],
        context: ChainContext | None,
    ) -> bool:
        """Replay the proposed chain over the lead's stored entries into `stage_id`."""
        entries = stored_entries(record, self.window)
        if not entries and not any(m.at < self.window.start for m in record.moves):
            return False
        self._considered(record)
        heard: list[LeadActivity] | None = None
        for entry in entries:
            if entry.stage_id == stage_id and actions:
                heard = heard if heard is not None else _heard(record)
                self._run(record, entry, actions, context, heard, str(stage_id), steps=True)
        return True

    def _considered(self, record: LeadRecord) -> None:
        self.leads_considered += 1
        self.activities_considered += len(record.events)

    def _run(
        self,
        record: LeadRecord,
        entry: Entry,
        actions: Sequence[Action],
        context: ChainContext | None,
        heard: Sequence[LeadActivity],
        run_key: str,
        *,
        steps: bool,
    ) -> RunReplay:
        self._note(chain_traits(actions))
        run = replay_run(
            actions,
            context or ChainContext(),
            entry.at,
            entry.left_at,
            self.window.end,
            heard,
        )
        lead_id = record.lead_id
        self.runs.add_proposed(run_key, lead_id)
        for step in run.effects():
            if step.type not in CONTROL_TYPES:
                self.effects.add_proposed(step.type, lead_id)
        if steps:
            for step in run.steps:
                self.steps.add_proposed(step.action_id, lead_id)
        return run

    def _note(self, traits: ChainTraits) -> None:
        if traits.has_branches:
            self.traits.add("branches_on_current_data")
        if traits.waits_for_events:
            self.traits.add("replies_unknown")
        if traits.calls_webhooks:
            self.traits.add("webhooks_assumed_accepted")


def _heard(record: LeadRecord) -> list[LeadActivity]:
    """The lead's activities as its chain runs hear of them, in time order; once per lead."""
    return sorted((LeadActivity(e.arrived_at, e.type) for e in record.events), key=lambda a: a.at)


_REASONS = {
    "branches_on_current_data": "branch conditions are decided on each lead's, contact's and "
    "company's data as it is now, not as it was when the run would have reached them",
    "replies_unknown": "until_event delays end on the replies, opens and meetings stored for "
    "the lead; one that the chain's own emails would have brought about cannot be known",
    "webhooks_assumed_accepted": "webhook calls are counted as made; whether the receiver "
    "would have accepted them is unknown",
}
