"""The workspace's schedule (WS-9, WS-10): a day's, week's or month's meetings, busy blocks
and open tasks with the items each overlaps, the contacts of today's meetings and the tasks due;
the summary shows today's. Read from PostgreSQL only, in the viewed user's time zone (WS-3); in
a super admin's view of another user, meetings are their time slots only (PERM-5).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, User
from db.repositories import meetings as meetings_repo
from db.repositories import schedule as schedule_repo
from db.repositories import tasks as tasks_repo
from db.repositories.schedule import MeetingSlot as MeetingSlot
from db.repositories.tasks import TaskFilter
from domain.meetings import MeetingKind
from domain.tasks import TaskStatus
from domain.workspace import ScheduleRange, Slot, Window, calendar_window, local_today, overlaps
from services.viewed_workspace import Viewed, viewed_workspace

T = TypeVar("T")
# A task read as a plain row of its columns (`id`, `due_at`, ...), as lists of hundreds are.
TaskRow = Any

SCHEDULE_ITEMS = 1000
"""At most this many items on one schedule (meetings first, then tasks); `truncated` says so."""
TASKS_DUE_ITEMS = 50


@dataclass(frozen=True)
class Bucket(Generic[T]):
    count: int
    items: Sequence[T]


@dataclass(frozen=True)
class ScheduleEntry:
    """A meeting (or busy block) or a task on a schedule, and the items it overlaps."""

    meeting: MeetingSlot | None
    task: TaskRow | None
    overlaps: Sequence[tuple[str, int]]


@dataclass(frozen=True)
class Schedule:
    viewed: Viewed
    range: ScheduleRange
    window: Window
    entries: Sequence[ScheduleEntry]
    truncated: bool
    contacts_with_meetings_today: Sequence[Contact]
    tasks_due: Bucket[TaskRow]
    meeting_contacts: Mapping[int, list[int]]


async def _due_in(
    session: AsyncSession, owner_id: int, window: Window, limit: int
) -> Bucket[TaskRow]:
    """The owner's open tasks due in the window, by due time: the first `limit` and how many."""
    f = TaskFilter(
        owner_id=owner_id,
        status=TaskStatus.OPEN.value,
        due_from=window.start,
        due_before=window.end,
    )
    items = await tasks_repo.list_rows(session, f, limit=limit)
    count = len(items) if len(items) < limit else await tasks_repo.count_tasks(session, f)
    return Bucket(count, items)


async def schedule_entries(
    session: AsyncSession, user: User, window: Window, limit: int
) -> tuple[list[ScheduleEntry], bool, Bucket[TaskRow]]:
    """The items of a schedule window with their overlaps, whether some were left out, and
    the tasks due in it."""
    meetings = await schedule_repo.overlapping(
        session, user.id, window.start, window.end, limit=limit + 1
    )
    due = await _due_in(session, user.id, window, limit + 1)
    truncated = len(meetings) + len(due.items) > limit
    meetings = meetings[:limit]
    tasks = due.items[: limit - len(meetings)]
    slots = [Slot(("meeting", m.id), m.start, m.end) for m in meetings]
    slots += [Slot(("task", t.id), t.due_at) for t in tasks]
    found = overlaps(slots)
    entries = [ScheduleEntry(m, None, found[("meeting", m.id)]) for m in meetings]
    entries += [ScheduleEntry(None, t, found[("task", t.id)]) for t in tasks]
    entries.sort(key=_entry_order)
    return entries, truncated, Bucket(due.count, due.items[:TASKS_DUE_ITEMS])


def _entry_order(entry: ScheduleEntry) -> tuple[datetime, int, int]:
    if entry.meeting is not None:
        return entry.meeting.start, 0, entry.meeting.id
    assert entry.task is not None and entry.task.due_at is not None
    return entry.task.due_at, 1, entry.task.id


async def contacts_of(
    session: AsyncSession, viewed: Viewed, meetings: Iterable[MeetingSlot]
) -> Mapping[int, list[int]]:
    if viewed.redacted:
        return {}
    return await meetings_repo.contact_ids_of(session, list({m.id for m in meetings}))


async def schedule(
    session: AsyncSession,
    actor: User,
    kind: ScheduleRange,
    day: date | None = None,
    user_id: int | None = None,
    *,
    now: datetime | None = None,
) -> Schedule:
    """The user's meetings, busy blocks and open tasks in the day, Monday-to-Sunday week or
    calendar month holding `day` (today in the user's zone by default), each with the items it
    overlaps (WS-9); the contacts of today's meetings and the tasks due in the period (WS-10).
    In a view of another user, contacts are withheld with the rest of the meetings (PERM-5).

    Raises Forbidden, SeatRequired, NotFound (see `viewed_workspace`).
    """
    now = now or datetime.now(UTC)
    async with session.begin():
        viewed = await viewed_workspace(session, actor, user_id, "reading the schedule")
        user = viewed.user
        today = local_today(now, user.time_zone)
        window = calendar_window(kind, day or today, user.time_zone)
        entries, truncated, due = await schedule_entries(session, user, window, SCHEDULE_ITEMS)
        contacts: Sequence[Contact] = []
        if not viewed.redacted:
            day_window = calendar_window(ScheduleRange.DAY, today, user.time_zone)
            contacts = await schedule_repo.contacts_meeting(
                session, user.id, day_window.start, day_window.end, kind=MeetingKind.MEETING.value
            )
        meeting_contacts = await contacts_of(
            session, viewed, (e.meeting for e in entries if e.meeting)
        )
    return Schedule(viewed, kind, window, entries, truncated, contacts, due, meeting_contacts)
