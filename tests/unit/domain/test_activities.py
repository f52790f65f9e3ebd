"""Which automation events an activity stands for (AUT-3, AUT-4): the mapping ingestion uses."""

import pytest

from domain.activities import CHAIN_AWAITED_TYPES, event_kinds, wakes_lead
from domain.automation import ProgressionEvent as E


@pytest.mark.parametrize(
    ("activity_type", "details", "expected"),
    [
        ("email_sent", {}, {E.EMAIL_SENT}),
        ("email_reply", {}, {E.EMAIL_REPLY}),
        ("linkedin_message", {}, {E.LINKEDIN_MESSAGE}),
        # Opens and notes are recorded but advance nothing.
        ("email_open", {}, set()),
        ("note", {}, set()),
    ],
)
def test_messages_map_to_their_own_event_aut_3_aut_4(activity_type, details, expected) -> None:
    assert event_kinds(activity_type, details) == expected


class TestCalls:
    def test_a_completed_connected_call_is_outreach_and_a_connection_aut_4(self) -> None:
        details = {"call": {"status": "completed", "outcome": "connected"}}
        assert event_kinds("call", details) == {E.CALL, E.CALL_CONNECTED}

    @pytest.mark.parametrize("outcome", ["no_answer", "left_voicemail", "busy", "wrong_number"])
    def test_a_call_without_connecting_is_outreach_only_aut_4(self, outcome: str) -> None:
        details = {"call": {"status": "completed", "outcome": outcome}}
        assert event_kinds("call", details) == {E.CALL}

    def test_a_call_logged_without_status_counts_as_made_aut_3(self) -> None:
        assert event_kinds("call", {}) == {E.CALL}
        assert event_kinds("call", {"call": {"status": "Completed"}}) == {E.CALL}

    def test_a_call_not_yet_made_is_not_outreach(self) -> None:
        assert event_kinds("call", {"call": {"status": "scheduled"}}) == set()


class TestMeetings:
    def test_a_meeting_the_contact_booked_is_a_connection_not_outreach_aut_4(self) -> None:
        details = {"meeting": {"outcome": "scheduled", "booked_by_contact": True}}
        assert event_kinds("meeting", details) == {E.MEETING_BOOKED_BY_CONTACT}

    def test_a_meeting_the_rep_scheduled_is_outreach_aut_3(self) -> None:
        assert event_kinds("meeting", {"meeting": {"outcome": "scheduled"}}) == {
            E.MEETING_SCHEDULED
        }
        assert event_kinds("meeting", {}) == {E.MEETING_SCHEDULED}

    @pytest.mark.parametrize("outcome", ["completed", "no_show", "canceled", "rescheduled"])
    def test_other_meeting_outcomes_advance_nothing(self, outcome: str) -> None:
        assert event_kinds("meeting", {"meeting": {"outcome": outcome}}) == set()

    @pytest.mark.parametrize("booked", [True, False])
    def test_a_busy_block_is_nobodys_outreach_or_connection(self, booked: bool) -> None:
        details = {"meeting": {"kind": "busy", "outcome": "scheduled", "booked_by_contact": booked}}
        assert event_kinds("meeting", details) == set()


class TestWhatWakesTheLeadWorkflow:
    @pytest.mark.parametrize(
        ("activity_type", "details"),
        [
            ("email_sent", {}),
            ("call", {"call": {"status": "completed"}}),
            # Move nothing, but a chain's `until_event` delay may be waiting for them.
            ("email_open", {}),
            ("email_reply", {}),
            ("meeting", {"meeting": {"kind": "busy"}}),
        ],
    )
    def test_events_that_can_move_a_lead_or_end_a_chain_delay_reach_it(
        self, activity_type, details
    ) -> None:
        assert wakes_lead(activity_type, event_kinds(activity_type, details))

    @pytest.mark.parametrize(
        ("activity_type", "details"),
        [("note", {}), ("call", {"call": {"status": "scheduled"}})],
    )
    def test_a_note_or_a_call_not_held_stays_on_the_record_only(
        self, activity_type, details
    ) -> None:
        assert not wakes_lead(activity_type, event_kinds(activity_type, details))

    def test_every_type_a_chain_delay_waits_for_reaches_the_lead(self) -> None:
        from domain.chains.delays import DELAY_EVENT_TYPES

        awaited = set().union(*DELAY_EVENT_TYPES.values())
        assert awaited <= CHAIN_AWAITED_TYPES
