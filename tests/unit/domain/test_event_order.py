"""A late event applied in its place in time (domain.progression.replay_in_order): the lead
ends where applying the events in `occurred_at` order puts it, whatever order they came in."""

import itertools
import random
from datetime import datetime, timedelta

from domain.activities import LeadEvent
from domain.leads import EventWindow, LeadSnapshot
from domain.progression import (
    EVENTS_KEPT,
    ProgressionConfig,
    choose_rule,
    replay_in_order,
)
from tests.unit.domain.test_progression import (
    ATTEMPTING,
    CONFIG,
    CONNECT,
    CONNECTED,
    NEW,
    NOW,
    OUTREACH,
    lead,
)


def event(kind: str, minutes: int, event_id: str | None = None) -> LeadEvent:
    return LeadEvent(
        event_id=event_id or f"{kind}-{minutes}",
        activity_id=1,
        type=kind,
        occurred_at=NOW + timedelta(minutes=minutes),
        kinds=(kind,),
    )


def arrive(
    events: list[LeadEvent],
    start: LeadSnapshot | None = None,
    config: ProgressionConfig = CONFIG,
) -> tuple[LeadSnapshot, list[tuple[str, str]], EventWindow]:
    """Deliver events as the lead workflow does; returns the lead, the moves made as
    (rule, event id), and the window left."""
    current = start or lead()
    window = EventWindow()
    moves: list[tuple[str, str]] = []
    for e in events:
        replay = replay_in_order(config, current, window, e)
        for move in replay.moves:
            assert move.rule.from_stage_id == current.stage_id, "a move from another stage"
            assert move.rule.to_stage_id is not None
            current = current.model_copy(update={"stage_id": move.rule.to_stage_id})
            moves.append((move.rule.name, move.event_id))
        window = replay.window
    return current, moves, window


def in_time_order(
    events: list[LeadEvent], start: LeadSnapshot | None = None, config: ProgressionConfig = CONFIG
) -> int:
    current = start or lead()
    for e in sorted(events, key=lambda e: e.occurred_at):
        rule = choose_rule(config, current, e.kinds, e.occurred_at)
        if rule is not None and rule.to_stage_id is not None:
            current = current.model_copy(update={"stage_id": rule.to_stage_id})
    return current.stage_id


class TestLateEvents:
    def test_a_reply_delivered_before_its_older_email_ends_in_connected(self) -> None:
        final, moves, _ = arrive([event("email_reply", 5), event("email_sent", 0)])
        assert final.stage_id == CONNECTED
        # Each event moves the lead one step (AUT-7), the history naming each one's own rule.
        assert moves == [
            ("advance_on_outreach", "email_sent-0"),
            ("advance_on_connect", "email_reply-5"),
        ]

    def test_events_in_order_move_as_before(self) -> None:
        final, moves, window = arrive([event("email_sent", 0), event("email_reply", 5)])
        assert final.stage_id == CONNECTED and len(moves) == 2
        assert [(e.event_id, e.stage_id) for e in window.events] == [
            ("email_sent-0", NEW),
            ("email_reply-5", ATTEMPTING),
        ]

    def test_a_late_event_that_changes_nothing_moves_nothing(self) -> None:
        # Sent at 0 moved the lead; an older outreach changes nothing in time order either.
        final, moves, _ = arrive([event("email_sent", 5), event("call", 0)])
        assert final.stage_id == ATTEMPTING
        assert moves == [("advance_on_outreach", "email_sent-5")]

    def test_the_late_event_is_reported_late_and_what_arrival_order_did(self) -> None:
        first = replay_in_order(CONFIG, lead(), EventWindow(), event("email_reply", 5))
        late = replay_in_order(CONFIG, lead(), first.window, event("email_sent", 0))
        assert not first.is_late and late.is_late
        assert [m.rule for m in late.arrival_moves] == [OUTREACH]
        assert [m.rule for m in late.moves] == [OUTREACH, CONNECT]

    def test_events_of_equal_time_keep_their_arrival_order(self) -> None:
        final, _, _ = arrive([event("email_reply", 0), event("email_sent", 0)])
        assert final.stage_id == ATTEMPTING

    def test_every_arrival_order_ends_where_time_order_does(self) -> None:
        events = [
            event("email_sent", 0),
            event("email_reply", 1),
            event("email_reply", 2),
            event("call", 3),
            event("call_connected", 4),
        ]
        for order in itertools.permutations(events):
            final, moves, _ = arrive(list(order))
            assert final.stage_id == in_time_order(events) == CONNECTED, order
            assert len(moves) == 2

    def test_random_arrival_orders_end_where_time_order_does(self) -> None:
        chance = random.Random(17)
        kinds = ["email_sent", "email_reply", "call", "call_connected", "email_open"]
        for _ in range(300):
            events = [
                event(chance.choice(kinds), chance.randrange(60), f"e{i}")
                for i in range(chance.randrange(1, 12))
            ]
            order = chance.sample(events, len(events))
            assert arrive(order)[0].stage_id == in_time_order(events), order


class TestHowFarItReaches:
    def test_a_lead_never_moves_backwards(self) -> None:
        # Connect from New here: the reply connected the lead; in time order the older email
        # would have taken it to Attempting first, where no rule hears a reply.
        config = ProgressionConfig(
            pipeline_id=1,
            rules=(
                OUTREACH,
                CONNECT.model_copy(update={"from_stage_id": NEW, "from_position": 0}),
            ),
        )
        events = [event("email_reply", 5), event("email_sent", 0)]
        assert in_time_order(events, config=config) == ATTEMPTING
        final, moves, window = arrive(events, config=config)
        assert final.stage_id == CONNECTED and moves == [("advance_on_connect", "email_reply-5")]
        # The window no longer describes the lead: the next late event is applied on its own.
        assert window.stage_id != final.stage_id

    def test_events_before_the_last_manual_move_stay_ignored_aut_8(self) -> None:
        manual = lead(last_manual_move_at=NOW + timedelta(minutes=3))
        final, moves, _ = arrive([event("email_reply", 5), event("email_sent", 0)], manual)
        assert final.stage_id == NEW and moves == []

    def test_a_manual_move_voids_what_came_before_it(self) -> None:
        _, _, window = arrive([event("email_reply", 20)])
        moved = lead(last_manual_move_at=NOW + timedelta(minutes=10))
        replay = replay_in_order(CONFIG, moved, window, event("email_sent", 12))
        # The reply was applied before the move: the email, after the move, counts on its own.
        assert not replay.is_late and [m.rule for m in replay.moves] == [OUTREACH]

    def test_a_lead_moved_otherwise_voids_the_window(self) -> None:
        _, _, window = arrive([event("email_reply", 5)])
        elsewhere = lead(stage_id=ATTEMPTING)  # moved by a chain or outside this workflow
        replay = replay_in_order(CONFIG, elsewhere, window, event("email_sent", 0))
        assert not replay.is_late and replay.moves == ()

    def test_it_reaches_back_over_the_last_events_kept(self) -> None:
        notes = [event("email_reply", 100 + i, f"r{i}") for i in range(EVENTS_KEPT + 10)]
        final, _, window = arrive([*notes, event("email_sent", 0)])
        assert len(window.events) == EVENTS_KEPT
        # Placed before the oldest reply kept: in time order those replies connect the lead.
        assert final.stage_id == CONNECTED

    def test_a_config_without_a_path_from_the_current_stage_moves_nothing(self) -> None:
        # Outreach skips Attempting here: the late email's path never passes the lead's stage.
        skip = ProgressionConfig(
            pipeline_id=1,
            rules=(
                OUTREACH.model_copy(update={"to_stage_id": CONNECTED, "to_position": 2}),
                CONNECT.model_copy(update={"from_stage_id": NEW, "from_position": 0}),
            ),
        )
        final, moves, window = arrive(
            [event("email_reply", 5), event("email_sent", 0)], config=skip
        )
        # The reply connected the lead on arrival; in time order the email would have.
        assert final.stage_id == CONNECTED and len(moves) == 1
        assert window.stage_id == CONNECTED


def test_window_times_stay_sorted() -> None:
    _, _, window = arrive([event("email_reply", 5), event("email_sent", 0), event("call", 3)])
    times: list[datetime] = [e.occurred_at for e in window.events]
    assert times == sorted(times)
