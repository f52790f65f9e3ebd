"""The sales workspace's summary (WS-1), read from PostgreSQL only; its schedule, feed and
leads board are services/schedule.py, services/feed.py and services/leads_board.py. Every window
is computed in the viewed user's time zone (WS-3).

Whose workspace: the caller's own, which needs a current seat (PERM-3), or, for a super admin
only, the user named by `user_id` (PERM-4); that user's meetings are then `redacted` to their
time slots (PERM-5). The feed is always the caller's own (PERM-6).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Task, User
from db.repositories import schedule as schedule_repo
from db.repositories import tasks as tasks_repo
from db.repositories.schedule import MeetingSlot
from domain.bounds import EARLIEST
from domain.meetings import MeetingKind
from domain.tasks import TaskView, due_window
from domain.workspace import UPCOMING_DAYS, ScheduleRange, Window, calendar_window, local_today
from services.feed import FeedGroup, FeedQuery, feed_page
from services.guided_action_views import GuidedSummary, summary_of
from services.schedule import SCHEDULE_ITEMS, Bucket, ScheduleEntry, contacts_of, schedule_entries
from services.viewed_workspace import Viewed, viewed_workspace

BUCKET_ITEMS = 10
"""Items listed with each count of the summary."""
FEED_PREVIEW_GROUPS = 5


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
        schedule_today, _, _ = await schedule_entries(session, user, day, SCHEDULE_ITEMS)
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
                await feed_page(
                    session, actor, FeedQuery(), limit=FEED_PREVIEW_GROUPS, cursor=None, now=now
                )
            ).items
        shown = [*upcoming[1], *met[1], *(e.meeting for e in schedule_today if e.meeting)]
        today_tasks, overdue, tomorrow = await _buckets(session, user, now)
        return Summary(
            viewed=viewed,
            meeting_contacts=await contacts_of(session, viewed, shown),
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
