"""The task-based guided actions (GA-13, GA-22), the day in the owner's own time zone."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.guided import (
    GuidedType,
    ObjectKind,
    TaskSnapshot,
    evaluate,
    may_be_listed,
    types_for,
)
from domain.tasks import TaskPriority, TaskStatus
from tests.unit.domain.fixtures_guided import (
    DAY,
    MINUTE,
    OWNER,
    blocked_for_good,
    holds,
    verdict,
)

T = GuidedType
HELSINKI = ZoneInfo("Europe/Helsinki")
# 23:30 UTC on 4 March is already 01:30 on 5 March in Helsinki.
LATE = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)


class TestSequenceActivity:
    """GA-13."""

    task = TaskSnapshot(task_id=1, owner_id=OWNER, sequence_id=3)

    def test_created_for_an_open_sequence_task_with_no_window(self) -> None:
        v = verdict(T.SEQUENCE_ACTIVITY, self.task)
        assert (v.user_id, v.holds, v.wake_at, v.expires_at) == (OWNER, True, None, None)

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"sequence_id": None},
            {"status": "completed"},
            {"completed_at": LATE},
        ],
        ids=["unassigned", "not-a-sequence-task", "completed", "completed-at-set"],
    )
    def test_each_criterion_failing_alone_blocks_or_ends_it(self, change: dict[str, Any]) -> None:
        failing = replace(self.task, **change)
        assert blocked_for_good(verdict(T.SEQUENCE_ACTIVITY, failing))
        assert not holds(T.SEQUENCE_ACTIVITY, failing, item_created_at=LATE - DAY)


class TestHighPriorityTasksDueToday:
    """GA-22."""

    task = TaskSnapshot(
        task_id=1,
        owner_id=OWNER,
        priority="high",
        due_at=datetime(2026, 3, 5, 9, tzinfo=HELSINKI),
        owner_time_zone="Europe/Helsinki",
    )
    day_end = datetime(2026, 3, 6, tzinfo=HELSINKI)

    def test_due_today_in_the_owners_zone_until_the_end_of_their_day(self) -> None:
        v = verdict(T.HIGH_PRIORITY_TASKS_DUE_TODAY, self.task, LATE)
        assert (v.user_id, v.holds) == (OWNER, True)
        assert v.wake_at == v.expires_at == self.day_end

    def test_the_end_of_the_owners_day_ends_it(self) -> None:
        assert holds(T.HIGH_PRIORITY_TASKS_DUE_TODAY, self.task, self.day_end - MINUTE, LATE)
        ended = verdict(T.HIGH_PRIORITY_TASKS_DUE_TODAY, self.task, self.day_end, LATE)
        assert blocked_for_good(ended)

    def test_due_tomorrow_it_waits_for_the_owners_midnight(self) -> None:
        midnight = datetime(2026, 3, 5, tzinfo=HELSINKI)
        v = verdict(T.HIGH_PRIORITY_TASKS_DUE_TODAY, self.task, midnight - MINUTE)
        assert (v.holds, v.wake_at) == (False, midnight)
        assert holds(T.HIGH_PRIORITY_TASKS_DUE_TODAY, self.task, midnight)

    def test_due_earlier_today_still_counts_ws_3(self) -> None:
        earlier = replace(self.task, due_at=datetime(2026, 3, 5, 0, 15, tzinfo=HELSINKI))
        assert holds(T.HIGH_PRIORITY_TASKS_DUE_TODAY, earlier, LATE)

    def test_in_utc_the_same_instant_is_still_the_day_before(self) -> None:
        utc_owner = replace(self.task, owner_time_zone="UTC")
        v = verdict(T.HIGH_PRIORITY_TASKS_DUE_TODAY, utc_owner, LATE)
        assert (v.holds, v.wake_at) == (False, datetime(2026, 3, 5, tzinfo=UTC))

    @pytest.mark.parametrize(
        "change",
        [
            {"owner_id": None},
            {"priority": "medium"},
            {"status": "completed"},
            {"due_at": None},
            {"due_at": datetime(2026, 3, 4, 23, 59, tzinfo=HELSINKI)},
        ],
        ids=["unassigned", "not-high", "completed", "undated", "overdue"],
    )
    def test_each_criterion_failing_alone_blocks_or_ends_it(self, change: dict[str, Any]) -> None:
        failing = replace(self.task, **change)
        assert blocked_for_good(verdict(T.HIGH_PRIORITY_TASKS_DUE_TODAY, failing, LATE))

    def test_rescheduled_to_another_day_it_leaves_today(self) -> None:
        moved = replace(self.task, due_at=datetime(2026, 3, 7, 9, tzinfo=HELSINKI))
        v = verdict(T.HIGH_PRIORITY_TASKS_DUE_TODAY, moved, LATE, item_created_at=LATE)
        assert (v.holds, v.wake_at) == (False, datetime(2026, 3, 7, tzinfo=HELSINKI))


tasks = st.builds(
    TaskSnapshot,
    task_id=st.just(1),
    owner_id=st.none() | st.just(OWNER),
    status=st.sampled_from(list(TaskStatus)),
    completed_at=st.none() | st.just(LATE),
    priority=st.sampled_from(list(TaskPriority)),
    due_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    sequence_id=st.none() | st.just(3),
    owner_time_zone=st.sampled_from(["UTC", "Europe/Helsinki", "Pacific/Kiritimati"]),
)


@settings(max_examples=500, deadline=None)
@given(tasks, st.datetimes(timezones=st.just(UTC)))
def test_a_task_no_type_may_list_gets_no_verdict_and_no_wake_up(
    task: TaskSnapshot, now: datetime
) -> None:
    """`may_be_listed` False: no task type holds now, none names an instant to look again,
    so a new task like it needs no evaluation (services/guided_actions.py)."""
    assume(not may_be_listed(task))
    for guided_type in types_for(ObjectKind.TASK):
        v = evaluate(guided_type, task, now)
        assert (v.holds, v.wake_at) == (False, None), guided_type


def test_a_task_a_type_may_list_is_told_apart() -> None:
    sequenced = TaskSnapshot(task_id=1, owner_id=OWNER, sequence_id=3)
    urgent = TaskSnapshot(task_id=1, owner_id=OWNER, priority="high", due_at=LATE)
    assert may_be_listed(sequenced) and may_be_listed(urgent)
    assert not may_be_listed(replace(urgent, due_at=None))
    assert not may_be_listed(replace(sequenced, status="completed"))
