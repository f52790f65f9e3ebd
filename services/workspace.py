"""The sales workspace: summary (WS-1), schedule (WS-9, WS-10), feed (WS-13) and leads board
(WS-8), read from PostgreSQL only. Every window is computed in the viewed user's time zone
(WS-3).

Whose workspace: the caller's own, which needs a current seat (PERM-3), or, for a super admin
only, the user named by `user_id` (PERM-4); that user's meetings are then `redacted` to their
time slots (PERM-5). The feed is always the caller's own (PERM-6).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Contact,
    Lead,
    Pipeline,
    SalesSequence,
    Stage,
    Task,
    User,
)
from db.repositories import feed as feed_repo
from db.repositories import leads as leads_repo
from db.repositories import meetings as meetings_repo
from db.repositories import pipelines as pipelines_repo
from db.repositories import schedule as schedule_repo
from db.repositories import tasks as tasks_repo
from db.repositories.feed import FeedFilter
from db.repositories.schedule import MeetingSlot as MeetingSlot
from db.repositories.tasks import TaskFilter
from domain.bounds import EARLIEST
from domain.errors import Forbidden, NotFound, invalid
from domain.meetings import MeetingKind
from domain.tasks import TaskStatus, TaskView, due_window
from domain.workspace import (
    FEED_DAYS,
    UPCOMING_DAYS,
    ScheduleRange,
    Slot,
    Window,
    calendar_window,
    local_today,
    overlaps,
)
from services.auth import require_workspace
from services.guided_action_views import GuidedSummary, summary_of
from services.pagination import Page, decode_position, encode_position
from services.references import require_record
from services.viewed_workspace import Viewed, viewed_workspace

T = TypeVar("T")
# A task read as a plain row of its columns (`id`, `due_at`, ...), as lists of hundreds are.
TaskRow = Any

BUCKET_ITEMS = 10
"""Items listed with each count of the summary."""
SCHEDULE_ITEMS = 1000
"""At most this many items on one schedule (meetings first, then tasks); `truncated` says so."""
TASKS_DUE_ITEMS = 50
FEED_PREVIEW_GROUPS = 5
FEED_GROUP_ITEMS = 10
"""Activities listed per contact in the feed, newest first."""
BOARD_LEADS = 50


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
class FeedGroup:
    contact: feed_repo.Group
    items: Sequence[feed_repo.Item]


@dataclass(frozen=True)
class Summary:
    viewed: Viewed
    today: Bucket[Task]
    overdue: Bucket[Task]
    tomorrow: Bucket[Task]
    upcoming_meetings: Bucket[MeetingSlot]
    schedule_today: Sequence[ScheduleEntry]
    insights_period: Window
    meetings_this_week: Bucket[MeetingSlot]
    tasks_completed_this_week: Bucket[Task]
    # The caller's own feed (PERM-6); None in a view of another user's workspace.
    feed_preview: Sequence[FeedGroup] | None
    # The contacts of each meeting listed (none in a redacted view).
    meeting_contacts: Mapping[int, list[int]]
    guided_actions: GuidedSummary


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


@dataclass(frozen=True)
class FeedQuery:
    type: str | None = None
    sequence_id: int | None = None
    enrolled: bool | None = None


@dataclass(frozen=True)
class BoardStage:
    stage: Stage
    count: int
    leads: Sequence[Lead]


@dataclass(frozen=True)
class Board:
    viewed: Viewed
    pipeline: Pipeline
    stages: Sequence[BoardStage]


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


async def _buckets(session: AsyncSession, user: User, now: datetime) -> list[Bucket[Task]]:
    """Today's, overdue and tomorrow's open tasks: two statements for the three."""
    views = (TaskView.TODAY, TaskView.OVERDUE, TaskView.TOMORROW)
    windows = []
    for view in views:
        window = due_window(view, now, user.time_zone)
        assert window is not None and window.end is not None
        # Overdue is open below; no due time is stored before EARLIEST.
        windows.append((window.start or EARLIEST, window.end))
    counts = await tasks_repo.count_open_due(session, user.id, windows)
    firsts = await tasks_repo.first_open_due(session, user.id, windows, limit=BUCKET_ITEMS)
    return [Bucket(count, items) for count, items in zip(counts, firsts, strict=True)]


async def _entries(
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


async def _contacts_of(
    session: AsyncSession, viewed: Viewed, meetings: Iterable[MeetingSlot]
) -> Mapping[int, list[int]]:
    if viewed.redacted:
        return {}
    return await meetings_repo.contact_ids_of(session, list({m.id for m in meetings}))


async def summary(
    session: AsyncSession, actor: User, user_id: int | None = None, *, now: datetime | None = None
) -> Summary:
    """The workspace's first page (WS-1): open tasks due today, overdue and tomorrow, the
    meetings of the next 7 days, today's schedule, this week's insights (the meetings of
    this Monday-to-Sunday week in the user's zone, and the tasks completed in it), the
    first groups of the caller's own feed (none in a view of another user, PERM-6) and the
    open guided actions: counts per category and the first ones (GA-5).

    Raises Forbidden, SeatRequired, NotFound (see `viewed_workspace`).
    """
    now = now or datetime.now(UTC)
    async with session.begin():
        viewed = await viewed_workspace(session, actor, user_id, "reading the workspace summary")
        user = viewed.user
        today = local_today(now, user.time_zone)
        upcoming = await schedule_repo.starting_between(
            session,
            user.id,
            now,
            now + timedelta(days=UPCOMING_DAYS),
            kind=MeetingKind.MEETING.value,
            limit=BUCKET_ITEMS,
        )
        day = calendar_window(ScheduleRange.DAY, today, user.time_zone)
        schedule_today, _, _ = await _entries(session, user, day, SCHEDULE_ITEMS)
        week = calendar_window(ScheduleRange.WEEK, today, user.time_zone)
        met = await schedule_repo.starting_between(
            session,
            user.id,
            week.start,
            week.end,
            kind=MeetingKind.MEETING.value,
            limit=BUCKET_ITEMS,
        )
        done = await tasks_repo.completed_between(
            session, user.id, week.start, week.end, limit=BUCKET_ITEMS
        )
        preview = None
        if not viewed.redacted:
            preview = (
                await _feed_page(
                    session, actor, FeedQuery(), limit=FEED_PREVIEW_GROUPS, cursor=None, now=now
                )
            ).items
        shown = [*upcoming[1], *met[1], *(e.meeting for e in schedule_today if e.meeting)]
        today_tasks, overdue, tomorrow = await _buckets(session, user, now)
        return Summary(
            viewed=viewed,
            meeting_contacts=await _contacts_of(session, viewed, shown),
            today=today_tasks,
            overdue=overdue,
            tomorrow=tomorrow,
            upcoming_meetings=Bucket(*upcoming),
            schedule_today=schedule_today,
            insights_period=week,
            meetings_this_week=Bucket(*met),
            tasks_completed_this_week=Bucket(*done),
            feed_preview=preview,
            guided_actions=await summary_of(session, viewed, now),
        )


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
        entries, truncated, due = await _entries(session, user, window, SCHEDULE_ITEMS)
        contacts: Sequence[Contact] = []
        if not viewed.redacted:
            day_window = calendar_window(ScheduleRange.DAY, today, user.time_zone)
            contacts = await schedule_repo.contacts_meeting(
                session, user.id, day_window.start, day_window.end, kind=MeetingKind.MEETING.value
            )
        meeting_contacts = await _contacts_of(
            session, viewed, (e.meeting for e in entries if e.meeting)
        )
    return Schedule(viewed, kind, window, entries, truncated, contacts, due, meeting_contacts)


async def feed(
    session: AsyncSession,
    actor: User,
    query: FeedQuery,
    *,
    user_id: int | None = None,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> Page[FeedGroup]:
    """The caller's own sales activity of the past year (older is left out), grouped by
    contact, the contact with the newest activity first; each group lists its newest
    activities (WS-13). Filters: activity type; contacts enrolled in a sequence (that one, if
    `sequence_id` is given) or, with `enrolled=False`, not enrolled.

    Raises Forbidden (role; `user_id` naming anyone but the caller, PERM-6: not even a super
    admin reads another user's feed), SeatRequired (PERM-3), InvalidInput (unknown sequence,
    a cursor this API did not hand out).
    """
    if user_id is not None and user_id != actor.id:
        raise Forbidden("the feed is always the caller's own (PERM-6); leave out user_id")
    require_workspace(actor, "reading the feed")
    async with session.begin():
        await require_record(session, SalesSequence, query.sequence_id, "sequence_id")
        return await _feed_page(
            session, actor, query, limit=limit, cursor=cursor, now=now or datetime.now(UTC)
        )


async def _feed_page(
    session: AsyncSession,
    actor: User,
    query: FeedQuery,
    *,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> Page[FeedGroup]:
    f = FeedFilter(
        user_id=actor.id,
        since=now - timedelta(days=FEED_DAYS),
        type=query.type,
        sequence_id=query.sequence_id,
        enrolled=query.enrolled,
    )
    found = await feed_repo.groups(session, f, before=decode_position(cursor), limit=limit + 1)
    page = found[:limit]
    items: dict[int, list[feed_repo.Item]] = {g.contact_id: [] for g in page}
    for item in await feed_repo.latest(session, f, list(items), per_contact=FEED_GROUP_ITEMS):
        items[item.contact_id].append(item)
    groups = [FeedGroup(g, items[g.contact_id]) for g in page]
    more = len(found) > limit and page
    return Page(groups, encode_position(page[-1].last_at, page[-1].last_id) if more else None)


async def leads_board(
    session: AsyncSession,
    actor: User,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    user_id: int | None = None,
) -> Board:
    """The user's leads of a lead pipeline (the default one unless named) as a board: each
    stage in order with how many of the user's leads it holds and the newest 50; `stage_id`
    keeps that stage only (WS-8). Moves go through `POST /leads/{id}/stage`.

    Raises Forbidden, SeatRequired, NotFound (see `viewed_workspace`), InvalidInput
    (`pipeline_id`: no such lead pipeline; `stage_id`: not a stage of it).
    """
    async with session.begin():
        viewed = await viewed_workspace(session, actor, user_id, "reading the leads board")
        if pipeline_id is None:
            pipeline = await pipelines_repo.get_default(session, "lead")
            if pipeline is None:
                raise NotFound("there is no default lead pipeline")
        else:
            found = await pipelines_repo.get(session, pipeline_id)
            if found is None or found.object != "lead":
                raise invalid(
                    "pipeline_id", "exists", f"lead pipeline {pipeline_id} does not exist"
                )
            pipeline = found
        stages = list(pipeline.stages)
        if stage_id is not None:
            stages = [s for s in stages if s.id == stage_id]
            if not stages:
                raise invalid(
                    "stage_id",
                    "stage_in_pipeline",
                    f"stage {stage_id} is not a stage of pipeline {pipeline.id}",
                )
        stage_ids = [s.id for s in stages]
        counts = await leads_repo.count_by_stage(session, viewed.user.id, stage_ids)
        newest: dict[int, list[Lead]] = {i: [] for i in stage_ids}
        for lead in await leads_repo.newest_by_stage(
            session, viewed.user.id, stage_ids, per_stage=BOARD_LEADS
        ):
            newest[lead.stage_id].append(lead)
    return Board(
        viewed,
        pipeline,
        [BoardStage(s, counts.get(s.id, 0), newest[s.id]) for s in stages],
    )
