"""The task-based types: GA-13, GA-22."""

from datetime import datetime

from domain.guided.snapshots import TaskSnapshot
from domain.guided.types import GuidedType
from domain.guided.verdicts import Verdict, decide
from domain.tasks import TaskPriority, TaskStatus
from domain.workspace import ScheduleRange, calendar_window, local_today


def _is_open(t: TaskSnapshot) -> bool:
    return t.status == TaskStatus.OPEN and t.completed_at is None


def sequence_activity(t: TaskSnapshot, now: datetime, item_created_at: datetime | None) -> Verdict:
    """GA-13: the owner's open, uncompleted task of a sequence; no window."""
    return decide(t.owner_id, now, (t.sequence_id is not None, _is_open(t)))


def high_priority_tasks_due_today(
    t: TaskSnapshot, now: datetime, item_created_at: datetime | None
) -> Verdict:
    """GA-22: the owner's open high-priority task due today in the owner's time zone (due
    earlier today still counts, WS-3), until the end of that day (derived)."""
    if t.due_at is None:
        return decide(t.owner_id, now, (False,))
    day = calendar_window(
        ScheduleRange.DAY, local_today(t.due_at, t.owner_time_zone), t.owner_time_zone
    )
    return decide(
        t.owner_id,
        now,
        (t.priority == TaskPriority.HIGH, _is_open(t)),
        from_=(day.start,),
        until=(day.end,),
        window_end=day.end,
    )


def may_be_listed(t: TaskSnapshot) -> bool:
    """Whether a task type could list the task, now or at a later time, as its data stands.

    False: every rule's verdict fails on data alone and names no instant to look again, so a
    new task (no item yet) has nothing to evaluate until it changes. Kept beside the rules;
    tests/unit/domain/test_guided_tasks.py checks it against them.
    """
    return (
        t.owner_id is not None
        and _is_open(t)
        and (
            t.sequence_id is not None or (t.priority == TaskPriority.HIGH and t.due_at is not None)
        )
    )


RULES = {
    GuidedType.SEQUENCE_ACTIVITY: sequence_activity,
    GuidedType.HIGH_PRIORITY_TASKS_DUE_TODAY: high_priority_tasks_due_today,
}
