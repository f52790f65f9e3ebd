"""The meeting- and call-based guided actions (GA-15, GA-16, GA-17, GA-21): creation delays
to the minute, the windows that end them, and each criterion failing alone."""

from dataclasses import replace
from typing import Any

import pytest

from domain.guided import CallSnapshot, GuidedType, MeetingSnapshot
from tests.unit.domain.fixtures_guided import (
    DAY,
    HOUR,
    MINUTE,
    NOW,
    OWNER,
    ago,
    blocked_for_good,
    holds,
    verdict,
)

T = GuidedType


class TestLogMeetingOutcome:
    """GA-15."""

    end = ago(2 * HOUR)
    meeting = MeetingSnapshot(meeting_id=1, owner_id=OWNER, start_at=end - HOUR, end_at=end)

    def test_created_until_7_days_after_the_meeting_ended(self) -> None:
        v = verdict(T.LOG_MEETING_OUTCOME, self.meeting)
        assert (v.user_id, v.holds) == (OWNER, True)
        assert v.wake_at == v.expires_at == self.end + 7 * DAY

    def test_not_a_minute_before_an_hour_after_the_end(self) -> None:
        early = verdict(T.LOG_MEETING_OUTCOME, self.meeting, self.end + HOUR - MINUTE)
        assert (early.holds, early.wake_at) == (False, self.end + HOUR)
        assert holds(T.LOG_MEETING_OUTCOME, self.meeting, self.end + HOUR)

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"kind": "busy"},
            {"outcome": "completed"},
            {"outcome": "canceled"},
            {"outcome": "no_show"},
            {"outcome": "rescheduled"},
        ],
        ids=["unassigned", "busy-block", "completed", "canceled", "no-show", "rescheduled"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.LOG_MEETING_OUTCOME, replace(self.meeting, **change)))

    def test_the_outcome_scheduled_still_needs_logging_ws_12(self) -> None:
        assert holds(T.LOG_MEETING_OUTCOME, replace(self.meeting, outcome="scheduled"))

    def test_setting_an_outcome_ends_it(self) -> None:
        logged = replace(self.meeting, outcome="completed")
        assert not holds(T.LOG_MEETING_OUTCOME, logged, item_created_at=ago(HOUR))

    def test_7_days_after_the_end_ends_it(self) -> None:
        closes = self.end + 7 * DAY
        assert holds(T.LOG_MEETING_OUTCOME, self.meeting, closes - MINUTE, ago(HOUR))
        assert blocked_for_good(verdict(T.LOG_MEETING_OUTCOME, self.meeting, closes, ago(HOUR)))

    def test_a_meeting_that_ended_7_days_ago_creates_nothing(self) -> None:
        old = replace(self.meeting, start_at=ago(7 * DAY + HOUR), end_at=ago(7 * DAY))
        assert blocked_for_good(verdict(T.LOG_MEETING_OUTCOME, old))


class TestMeetingFollowUp:
    """GA-16."""

    start = ago(2 * HOUR)
    meeting = MeetingSnapshot(meeting_id=1, owner_id=OWNER, start_at=start, end_at=start + HOUR)

    def test_created_once_the_meeting_started(self) -> None:
        v = verdict(T.MEETING_FOLLOW_UP, self.meeting)
        assert (v.user_id, v.holds) == (OWNER, True)
        assert v.wake_at == v.expires_at == self.start + HOUR + 7 * DAY

    def test_not_a_minute_before_the_start(self) -> None:
        early = verdict(T.MEETING_FOLLOW_UP, self.meeting, self.start - MINUTE)
        assert (early.holds, early.wake_at) == (False, self.start)
        assert holds(T.MEETING_FOLLOW_UP, self.meeting, self.start)

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"kind": "busy"},
            {"follow_up_tasks": 2, "open_follow_up_tasks": 0},
        ],
        ids=["unassigned", "busy-block", "follow-ups-done"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.MEETING_FOLLOW_UP, replace(self.meeting, **change)))

    def test_an_open_follow_up_task_keeps_it(self) -> None:
        pending = replace(self.meeting, follow_up_tasks=2, open_follow_up_tasks=1)
        assert holds(T.MEETING_FOLLOW_UP, pending, item_created_at=ago(HOUR))

    def test_completing_the_follow_up_tasks_ends_it(self) -> None:
        done = replace(self.meeting, follow_up_tasks=1, open_follow_up_tasks=0)
        assert not holds(T.MEETING_FOLLOW_UP, done, item_created_at=ago(HOUR))

    def test_7_days_after_the_end_ends_it(self) -> None:
        closes = self.start + HOUR + 7 * DAY
        assert holds(T.MEETING_FOLLOW_UP, self.meeting, closes - MINUTE, ago(HOUR))
        assert blocked_for_good(verdict(T.MEETING_FOLLOW_UP, self.meeting, closes, ago(HOUR)))


class TestPrepareForMeetings:
    """GA-21."""

    start = NOW + DAY
    meeting = MeetingSnapshot(meeting_id=1, owner_id=OWNER, start_at=start, end_at=start + HOUR)

    def test_created_for_an_upcoming_meeting_until_10_minutes_after_its_start(self) -> None:
        v = verdict(T.PREPARE_FOR_MEETINGS, self.meeting)
        assert (v.user_id, v.holds) == (OWNER, True)
        assert v.wake_at == v.expires_at == self.start + 10 * MINUTE

    def test_10_minutes_after_the_start_ends_it(self) -> None:
        closes = self.start + 10 * MINUTE
        assert holds(T.PREPARE_FOR_MEETINGS, self.meeting, closes - MINUTE, NOW)
        assert blocked_for_good(verdict(T.PREPARE_FOR_MEETINGS, self.meeting, closes, NOW))

    def test_a_meeting_more_than_a_week_ahead_waits_until_it_is_upcoming(self) -> None:
        far = replace(self.meeting, start_at=NOW + 8 * DAY, end_at=NOW + 8 * DAY + HOUR)
        v = verdict(T.PREPARE_FOR_MEETINGS, far)
        assert (v.holds, v.wake_at) == (False, NOW + DAY)
        assert holds(T.PREPARE_FOR_MEETINGS, far, NOW + DAY)

    @pytest.mark.parametrize(
        "change",
        [{"owner_id": None}, {"kind": "busy"}, {"outcome": "canceled"}, {"outcome": "no_show"}],
        ids=["unassigned", "busy-block", "canceled", "no-show"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.PREPARE_FOR_MEETINGS, replace(self.meeting, **change)))


class TestLogCallOutcome:
    """GA-17."""

    started = ago(2 * HOUR)
    call = CallSnapshot(call_id=1, owner_id=OWNER, started_at=started, status="completed")

    def test_created_until_7_days_after_the_start(self) -> None:
        v = verdict(T.LOG_CALL_OUTCOME, self.call)
        assert (v.user_id, v.holds) == (OWNER, True)
        assert v.wake_at == v.expires_at == self.started + 7 * DAY

    def test_not_a_minute_before_an_hour_after_the_start(self) -> None:
        early = verdict(T.LOG_CALL_OUTCOME, self.call, self.started + HOUR - MINUTE)
        assert (early.holds, early.wake_at) == (False, self.started + HOUR)
        assert holds(T.LOG_CALL_OUTCOME, self.call, self.started + HOUR)

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"status": "busy"},
            {"status": None, "via_platform": True},
            {"status": "failed", "via_platform": True},
            {"outcome": "connected"},
        ],
        ids=["unassigned", "not-completed", "built-in-blank", "built-in-failed", "outcome"],
    )
    def test_each_criterion_failing_alone_blocks_it(self, change: dict[str, Any]) -> None:
        assert blocked_for_good(verdict(T.LOG_CALL_OUTCOME, replace(self.call, **change)))

    @pytest.mark.parametrize(
        "change",
        [{"status": None}, {"status": ""}, {"status": "Completed", "via_platform": True}],
        ids=["blank", "empty", "built-in-completed"],
    )
    def test_completed_or_outside_built_in_calling_blank(self, change: dict[str, Any]) -> None:
        assert holds(T.LOG_CALL_OUTCOME, replace(self.call, **change))

    def test_logging_an_outcome_ends_it(self) -> None:
        logged = replace(self.call, outcome="no_answer")
        assert not holds(T.LOG_CALL_OUTCOME, logged, item_created_at=ago(HOUR))

    def test_7_days_after_the_start_ends_it(self) -> None:
        closes = self.started + 7 * DAY
        assert holds(T.LOG_CALL_OUTCOME, self.call, closes - MINUTE, ago(HOUR))
        assert blocked_for_good(verdict(T.LOG_CALL_OUTCOME, self.call, closes, ago(HOUR)))
