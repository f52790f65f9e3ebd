"""Backtests replay stored activity through the automation and chain rules (AUT-2 to AUT-8,
AUT-12, ACT-1): pure replays with known outcomes."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.automation import FollowUpRule
from domain.backtests import (
    LeadActivity,
    LeadRecord,
    Outcome,
    RunEnd,
    StageChains,
    StageInfo,
    StoredEvent,
    StoredMove,
    Tally,
    Window,
    replay_run,
    replay_timeline,
    resolve_window,
)
from domain.backtests.outcomes import ChainVersionAt
from domain.chains import Action, ChainContext, parse_actions
from domain.errors import InvalidInput
from domain.progression import ProgressionConfig, ProgressionRuleView

NEW, ATTEMPTING, CONNECTED, QUALIFIED, DISQUALIFIED = 1, 2, 3, 4, 5
STAGES = {
    NEW: StageInfo(0, "open"),
    ATTEMPTING: StageInfo(1, "open"),
    CONNECTED: StageInfo(2, "open"),
    QUALIFIED: StageInfo(3, "qualified"),
    DISQUALIFIED: StageInfo(4, "disqualified"),
}
T0 = datetime(2024, 3, 1, tzinfo=UTC)
WINDOW = Window(T0, T0 + timedelta(days=30))


def config(
    *, outreach: bool = True, connect: bool = True, default: bool = True
) -> ProgressionConfig:
    def rule(
        name: str, enabled: bool, start: int, end: int, events: tuple[str, ...]
    ) -> ProgressionRuleView:
        return ProgressionRuleView(
            name=name,
            enabled=enabled,
            from_stage_id=start,
            to_stage_id=end,
            from_position=STAGES[start].position,
            to_position=STAGES[end].position,
            events=events,
        )

    return ProgressionConfig(
        pipeline_id=1,
        rules=(
            rule("advance_on_outreach", outreach, NEW, ATTEMPTING, ("email_sent", "call")),
            rule("advance_on_connect", connect, ATTEMPTING, CONNECTED, ("email_reply",)),
        ),
        is_default=default,
    )


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def event(n: int, kind: str, occurred: float, arrived: float | None = None) -> StoredEvent:
    return StoredEvent(
        n, f"e{n}", kind, at(occurred), at(occurred if arrived is None else arrived), (kind,)
    )


CREATED_BEFORE = StoredMove(T0 - timedelta(days=3), None, NEW, "created")


def lead(*events: StoredEvent, moves=(CREATED_BEFORE,), auto=True, lead_id=7) -> LeadRecord:
    return LeadRecord(lead_id, 1, auto, tuple(moves), tuple(events))


NO_FOLLOW_UP = FollowUpRule()


class TestWindow:
    now = datetime(2024, 6, 1, tzinfo=UTC)

    def test_nothing_given_is_the_last_30_days(self) -> None:
        assert resolve_window(self.now) == Window(self.now - timedelta(days=30), self.now)

    def test_days_end_now(self) -> None:
        assert resolve_window(self.now, days=7).start == self.now - timedelta(days=7)

    @pytest.mark.parametrize(
        ("start", "end", "field", "rule"),
        [
            (now - timedelta(days=91), now, "window.start", "at_most_90_days"),
            (now, now - timedelta(days=1), "window.start", "before_end"),
            (now, now + timedelta(days=1), "window.end", "not_future"),
            (None, now, "window.start", "required"),
        ],
    )
    def test_a_bad_window_names_its_field_and_rule(self, start, end, field, rule) -> None:
        with pytest.raises(InvalidInput) as caught:
            resolve_window(self.now, start=start, end=end)
        assert (field, rule) in {(e.field, e.rule) for e in caught.value.errors}

    def test_days_and_a_window_together_are_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            resolve_window(self.now, days=3, start=self.now - timedelta(days=1), end=self.now)
        assert caught.value.errors[0].field == "days"


class TestTimeline:
    def test_outreach_then_reply_moves_two_steps_aut_3_aut_4(self) -> None:
        timeline = replay_timeline(
            lead(event(1, "email_sent", 1), event(2, "email_reply", 5)),
            WINDOW,
            config(),
            NO_FOLLOW_UP,
            STAGES,
        )
        assert [(m.rule, m.from_stage_id, m.to_stage_id) for m in timeline.moves] == [
            ("advance_on_outreach", NEW, ATTEMPTING),
            ("advance_on_connect", ATTEMPTING, CONNECTED),
        ]
        assert [e.stage_id for e in timeline.entries] == [ATTEMPTING, CONNECTED]
        assert timeline.entries[0].left_at == at(5)

    def test_outreach_switched_off_also_prevents_the_connect_move_aut_7(self) -> None:
        timeline = replay_timeline(
            lead(event(1, "email_sent", 1), event(2, "email_reply", 5)),
            WINDOW,
            config(outreach=False),
            NO_FOLLOW_UP,
            STAGES,
        )
        assert timeline.moves == []

    def test_leads_outside_the_default_pipeline_never_move_aut_2(self) -> None:
        timeline = replay_timeline(
            lead(event(1, "email_sent", 1)), WINDOW, config(default=False), NO_FOLLOW_UP, STAGES
        )
        assert timeline.moves == []

    def test_a_manual_move_back_switches_automation_off_aut_8(self) -> None:
        back = StoredMove(at(2), ATTEMPTING, NEW, "manual")
        timeline = replay_timeline(
            lead(event(1, "email_sent", 1), event(2, "call", 3), moves=(CREATED_BEFORE, back)),
            WINDOW,
            config(),
            NO_FOLLOW_UP,
            STAGES,
        )
        assert [m.rule for m in timeline.moves] == ["advance_on_outreach"]
        assert [e.cause for e in timeline.entries] == ["automation:advance_on_outreach", "manual"]

    def test_a_late_event_is_placed_in_time_before_the_ones_that_came_first(self) -> None:
        # The reply arrived first but occurred after the email: in time order both move.
        timeline = replay_timeline(
            lead(event(2, "email_reply", 5, arrived=6), event(1, "email_sent", 1, arrived=7)),
            WINDOW,
            config(),
            NO_FOLLOW_UP,
            STAGES,
        )
        assert [m.rule for m in timeline.moves] == ["advance_on_outreach", "advance_on_connect"]

    def test_automation_switched_off_before_the_window_stays_off(self) -> None:
        timeline = replay_timeline(
            lead(event(1, "email_sent", 1), auto=False), WINDOW, config(), NO_FOLLOW_UP, STAGES
        )
        assert timeline.moves == []

    def test_a_lead_created_after_the_window_did_not_exist(self) -> None:
        later = StoredMove(WINDOW.end + timedelta(days=1), None, NEW, "created")
        timeline = replay_timeline(
            lead(event(1, "email_sent", 1), moves=(later,)), WINDOW, config(), NO_FOLLOW_UP, STAGES
        )
        assert not timeline.existed
        assert timeline.moves == []

    def test_a_disqualification_with_a_chosen_reason_makes_a_follow_up_aut_12(self) -> None:
        moves = (
            CREATED_BEFORE,
            StoredMove(at(1), NEW, DISQUALIFIED, "manual", disqualification_reason_id=9),
        )
        chosen = FollowUpRule(enabled=True, lead_type="again", reason_ids=(9,))
        other = FollowUpRule(enabled=True, lead_type="again", reason_ids=(8,))
        record = lead(moves=moves)
        assert replay_timeline(record, WINDOW, config(), chosen, STAGES).follow_ups == [at(1)]
        assert replay_timeline(record, WINDOW, config(), other, STAGES).follow_ups == []


def chain(*raw: dict[str, Any]) -> list[Action]:
    return parse_actions([{"id": f"a_0000000{i}", **a} for i, a in enumerate(raw)])


TASK = {"type": "create_task", "config": {"title": "Call"}}
EMAIL = {"type": "send_email", "config": {"subject": "Hi", "body": "Hello"}}
WITH_EMAIL = ChainContext(contact={"email": "jo@example.com"})


class TestRun:
    def test_a_delay_longer_than_the_stay_stops_the_run(self) -> None:
        actions = chain(TASK, {"type": "delay", "config": {"duration": "P3D"}}, EMAIL)
        run = replay_run(actions, WITH_EMAIL, at(0), at(24), WINDOW.end)
        assert [s.type for s in run.effects()] == ["create_task"]
        assert run.end == RunEnd.STOPPED

    def test_a_run_that_outlasts_the_window_counts_only_what_came_inside(self) -> None:
        actions = chain({"type": "delay", "config": {"duration": "P3D"}}, TASK)
        run = replay_run(actions, WITH_EMAIL, WINDOW.end - timedelta(days=1), None, WINDOW.end)
        assert run.effects() == []
        assert run.end == RunEnd.RUNNING

    def test_a_stored_reply_ends_an_until_event_delay_early(self) -> None:
        wait = {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P7D"}}
        actions = chain(wait, TASK)
        reply = [LeadActivity(at(30), "email_reply")]
        run = replay_run(actions, WITH_EMAIL, at(0), at(48), WINDOW.end, reply)
        assert [(s.type, s.at) for s in run.effects()] == [("create_task", at(30))]
        assert run.end == RunEnd.COMPLETED

    def test_an_email_to_a_contact_without_address_is_no_effect(self) -> None:
        run = replay_run(chain(EMAIL, TASK), ChainContext(), at(0), None, WINDOW.end)
        assert [s.type for s in run.effects()] == ["create_task"]
        assert [s.type for s in run.steps] == ["send_email", "create_task"]

    def test_a_branch_takes_the_path_its_condition_picks(self) -> None:
        branch = {
            "type": "branch",
            "config": {
                "if": {"property": "lead.label", "op": "eq", "value": "hot"},
                "then": [{"id": "a_000000aa", **TASK}],
                "else": [{"id": "a_000000bb", **EMAIL}],
            },
        }
        hot = ChainContext(lead={"label": "hot"}, contact={"email": "jo@example.com"})
        run = replay_run(chain(branch), hot, at(0), None, WINDOW.end)
        assert [s.action_id for s in run.steps] == ["a_00000000", "a_000000aa"]


class TestTally:
    def test_added_and_prevented_are_counted_lead_by_lead(self) -> None:
        tally = Tally()
        tally.add_proposed("r", 1)
        tally.add_proposed("r", 2, 2)
        tally.add_actual("r", 2)
        tally.add_actual("r", 3)
        c = tally.compare("r")
        assert (c.proposed, c.actual, c.difference, c.added, c.prevented) == (3, 2, 1, 2, 1)
        assert c.added_examples == (1, 2)
        assert c.prevented_examples == (3,)

    def test_examples_stop_at_20(self) -> None:
        tally = Tally()
        for lead_id in range(30):
            tally.add_proposed("r", lead_id)
        assert len(tally.compare("r").examples) == 20


class TestOutcome:
    def test_turning_outreach_off_shows_the_moves_it_prevents(self) -> None:
        moves = (
            CREATED_BEFORE,
            StoredMove(at(1), NEW, ATTEMPTING, "automation:advance_on_outreach"),
        )
        outcome = Outcome(WINDOW)
        outcome.add_automation_lead(
            lead(event(1, "email_sent", 1), moves=moves),
            config(outreach=False),
            NO_FOLLOW_UP,
            STAGES,
            {},
            None,
        )
        c = outcome.moves.compare("advance_on_outreach")
        assert (c.proposed, c.actual, c.prevented, c.prevented_examples) == (0, 1, 1, (7,))
        assert not outcome.approximate

    def test_a_chain_runs_as_the_version_in_force_at_each_entry(self) -> None:
        chains = {
            ATTEMPTING: StageChains(
                (ChainVersionAt(at(0), chain(TASK)), ChainVersionAt(at(10), chain(TASK, TASK)))
            )
        }
        outcome = Outcome(WINDOW)
        outcome.add_automation_lead(
            lead(event(1, "email_sent", 1)), config(), NO_FOLLOW_UP, STAGES, chains, None
        )
        assert outcome.runs.compare(str(ATTEMPTING)).proposed == 1
        assert outcome.effects.compare("create_task").proposed == 1

    def test_a_chain_waiting_for_a_reply_is_approximate(self) -> None:
        wait = {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P1D"}}
        entered = StoredMove(at(1), NEW, ATTEMPTING, "manual")
        outcome = Outcome(WINDOW)
        outcome.add_chain_lead(
            lead(moves=(CREATED_BEFORE, entered)), ATTEMPTING, chain(EMAIL, wait, TASK), WITH_EMAIL
        )
        assert outcome.runs.compare(str(ATTEMPTING)).proposed == 1
        assert outcome.effects.compare("send_email").proposed == 1
        assert [r.code for r in outcome.reasons()] == ["replies_unknown"]
