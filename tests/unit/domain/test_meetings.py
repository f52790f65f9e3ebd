"""Meeting vocabulary and the event ids of the activities Leadpipe records itself."""

from datetime import UTC, datetime, timedelta

from domain.activities import INTERNAL_EVENT_PREFIX
from domain.meetings import (
    MeetingKind,
    created_event_id,
    default_title,
    ends_before_it_starts,
    outcome_event_id,
)


def test_each_outcome_set_has_its_own_event_id_in_leadpipes_namespace() -> None:
    ids = {outcome_event_id("meeting", 7, n) for n in (1, 2)} | {outcome_event_id("call", 7, 1)}
    assert ids == {
        "leadpipe/meeting-outcome-7-1",
        "leadpipe/meeting-outcome-7-2",
        "leadpipe/call-outcome-7-1",
    }
    assert created_event_id("meeting", 7).startswith(INTERNAL_EVENT_PREFIX)


def test_a_meeting_may_take_no_time_but_not_end_before_it_starts() -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert not ends_before_it_starts(start, start)
    assert ends_before_it_starts(start, start - timedelta(seconds=1))


def test_an_untitled_busy_block_reads_busy() -> None:
    assert default_title(MeetingKind.BUSY) == "Busy"
    assert default_title(MeetingKind.MEETING) == "Meeting"
